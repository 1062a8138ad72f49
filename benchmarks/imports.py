"""Import benchmark: a 1 GiB qcow2 from a local HTTP server, against a plain download-with-sha256.

Also measures the server's peak RSS growth during the import, and Get p99 while two imports
run against its idle value. Run by `python -m benchmarks imports`; prints one JSON line.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import django
import grpc
import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
SIZE = int(os.environ.get("BENCH_IMPORT_BYTES", str(1024**3)))
CHUNK = 1024 * 1024


def make_qcow2() -> Path:
    """A qcow2 whose file is SIZE bytes of incompressible data (made once, then reused)."""
    target = BENCH_DIR / f"import-{SIZE}.qcow2"
    if target.exists():
        return target
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    raw = BENCH_DIR / "import.raw"
    with open(raw, "wb") as out:
        block = os.urandom(CHUNK)
        for index in range(SIZE // CHUNK):
            # Cheap variation so no two MiB are equal (qcow2 stores every cluster).
            out.write(index.to_bytes(8, "little") + block[8:])
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(target)], check=True)
    raw.unlink()
    return target


def plain_download(url: str) -> float:
    """Bytes per second of the simplest streaming download that hashes and writes to disk."""
    digest = hashlib.sha256()
    started = time.perf_counter()
    with urllib.request.urlopen(url) as response, tempfile.NamedTemporaryFile(dir=BENCH_DIR) as out:
        total = 0
        while chunk := response.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            total += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return total / (time.perf_counter() - started)


def main() -> None:
    from benchmarks.harness import free_port, latency, start_backend, wait_until

    image = make_qcow2()
    http_port, grpc_port = free_port(), free_port()
    data_dir = Path(tempfile.mkdtemp(dir=BENCH_DIR, prefix="store-"))
    env = dict(
        os.environ,
        IMAGESERVICE_IMPORT_ALLOWED_HOSTS=f"127.0.0.1:{http_port}",
        IMAGESERVICE_IMPORT_ALLOW_HTTP="1",
        IMAGESERVICE_DATA_DIR=str(data_dir),
        IMAGESERVICE_LOG_LEVEL="WARNING",
    )
    os.environ.update({k: env[k] for k in ("IMAGESERVICE_DATA_DIR",)})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "images.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from images.domain.auth import create_token

    call_command("migrate", verbosity=0)
    token = create_token(name="bench-import", role="editor")
    connection.close()

    # The HTTP server stands in for remote object storage: niced, so on this 2-core machine it
    # does not compete with the backend for CPU the way a remote server never would.
    http = subprocess.Popen(
        [
            "nice",
            "-n",
            "19",
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            str(http_port),
            "--directory",
            str(BENCH_DIR),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{http_port}/{image.name}"
    server = None
    try:
        server = start_backend(grpc_port, env=env)
        wait_until(lambda: _reachable(url), timeout=30, what="the HTTP server")
        results = _measure(f"127.0.0.1:{grpc_port}", token, url, psutil.Process(server.pid), latency)
    finally:
        for process in (server, http):
            if process is None:
                continue
            process.terminate()
            process.wait(timeout=30)
    results["file_bytes"] = image.stat().st_size
    print(json.dumps(results))


def _reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=1).close()
    except OSError:
        return False
    return True


def _measure(address, token, url, process, latency) -> dict:
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2_grpc
    from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
    from images.api.gen.yandex.cloud.operation import operation_service_pb2_grpc

    channel = grpc.insecure_channel(address)
    metadata = (("authorization", f"Bearer {token}"),)
    images = image_service_pb2_grpc.ImageServiceStub(channel)
    operations = operation_service_pb2_grpc.OperationServiceStub(channel)

    def start_import(name: str):
        return images.Create(
            isv.CreateImageRequest(folder_id="bench-import", name=name, uri=url),
            metadata=metadata,
            timeout=10,
        )

    def wait_done(operation, poll=0.05):
        while not operation.done:
            time.sleep(poll)
            operation = operations.Get(osv.GetOperationRequest(operation_id=operation.id), metadata=metadata)
        if operation.WhichOneof("result") != "response":
            raise RuntimeError(f"import failed: {operation.error.message}")
        return operation

    plain_download(url)  # once to warm the page cache, so both runs read the file from memory
    results: dict = {"plain_bytes_per_s": plain_download(url)}

    # One import, with the server's memory sampled while it runs.
    baseline_rss = process.memory_info().rss
    peak = [baseline_rss]
    sampling = threading.Event()

    peak_with_children = [baseline_rss]

    def sample() -> None:
        while not sampling.is_set():
            rss = process.memory_info().rss
            children = 0
            for child in process.children(recursive=True):
                try:
                    children += child.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            peak[0] = max(peak[0], rss)
            peak_with_children[0] = max(peak_with_children[0], rss + children)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    done = wait_done(start_import("bench-one"), poll=0.01)
    elapsed = time.perf_counter() - started
    sampling.set()
    sampler.join()
    from images.api.gen.yandex.cloud.compute.v1 import image_pb2

    imported = image_pb2.Image()
    done.response.Unpack(imported)
    results["import_bytes_per_s"] = imported.storage_size / elapsed
    results["rss_growth_bytes"] = peak[0] - baseline_rss
    # The import runs in a child interpreter: count it too (most of it is the interpreter itself).
    results["rss_growth_with_import_process_bytes"] = peak_with_children[0] - baseline_rss

    # Get p99 idle, then while two imports run.
    def get():
        images.Get(isv.GetImageRequest(image_id=imported.id), metadata=metadata, timeout=5)

    results["get_idle"] = latency(get, count=1000, warmup=100)
    running = [start_import("bench-two"), start_import("bench-three")]
    time.sleep(0.3)  # let both downloads get going before measuring
    results["get_during_imports"] = latency(get, count=1000, warmup=0)
    still_running = [
        not operations.Get(osv.GetOperationRequest(operation_id=op.id), metadata=metadata).done
        for op in running
    ]
    results["imports_still_running_after_measuring"] = sum(still_running)
    for operation in running:
        wait_done(operation)
    channel.close()
    return results


if __name__ == "__main__":
    main()
