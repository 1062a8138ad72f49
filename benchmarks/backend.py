"""Backend benchmark on one database: seed 100,000 images, then the API against an empty-handler floor.

Run by `python -m benchmarks` (make bench) in its own process per database; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import django
import grpc

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "bench-folder"
IMAGES = int(os.environ.get("BENCH_IMAGES", "100000"))
FAMILIES = 1000


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "images.settings")
    os.environ.setdefault("IMAGESERVICE_LOG_LEVEL", "WARNING")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from images.domain.auth import create_token

    call_command("migrate", verbosity=0)
    from benchmarks.seed import seed_images

    started = time.perf_counter()
    seeded = seed_images(FOLDER, count=IMAGES, families=FAMILIES)
    seed_seconds = time.perf_counter() - started
    token = create_token(name="bench", role="editor")
    with connection.cursor() as cursor:
        # What autovacuum (PostgreSQL) or an operator (SQLite) does after a bulk load.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    filter_tokens = deep_tokens()
    connection.close()

    from benchmarks.harness import free_port, latency, start_backend, throughput

    port = free_port()
    log_path = ROOT / "var" / f"bench-server-{connection.vendor}.log"
    with open(log_path, "w") as log:
        server = start_backend(
            port,
            "--workers",
            "4",
            "--bench-floor",
            env=dict(os.environ, IMAGESERVICE_LOG_LEVEL="WARNING"),
            log=log,
        )
    try:
        results = measure(f"127.0.0.1:{port}", token, seeded, filter_tokens, latency, throughput)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["metrics"] = metrics_cost(token, seeded, log_path)
    from benchmarks.recovery import measure_recovery

    results["recovery"] = measure_recovery(token, log_path.parent)
    results["seed_seconds"] = seed_seconds
    results["database"] = connection.vendor
    print(json.dumps(results))


def _own_copy_on_sqlite(env: dict) -> dict:
    """The environment for a second server running beside the first: on SQLite, a database is one
    process's (grpcserver refuses a second), so it gets a copy of the seeded file; PostgreSQL is shared."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return env
    import sqlite3

    source = Path(connection.settings_dict["NAME"])
    copy = source.with_name(source.stem + "-metrics-on" + source.suffix)
    copy.unlink(missing_ok=True)
    with sqlite3.connect(source) as original, sqlite3.connect(copy) as target:
        original.backup(target)
    connection.close()
    return dict(env, DATABASE_URL=f"sqlite:///{copy}")


def metrics_cost(token, seeded, log_path) -> dict:
    """Get, floor and List(100) on a server without metrics and one with --metrics-port (scraped
    during the run), measured in alternating rounds so both see the same machine load."""
    import urllib.request

    from benchmarks.harness import free_port, latency, start_backend
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2_grpc
    from images.grpc.server import FLOOR_METHOD

    env = dict(os.environ, IMAGESERVICE_LOG_LEVEL="WARNING")
    env_on = _own_copy_on_sqlite(env)
    ports = {"off": free_port(), "on": free_port()}
    metrics_port = free_port()
    servers = []
    try:
        with open(log_path, "a") as log:
            servers.append(start_backend(ports["off"], "--workers", "1", "--bench-floor", env=env, log=log))
            servers.append(
                start_backend(
                    ports["on"],
                    "--workers",
                    "1",
                    "--bench-floor",
                    "--metrics-port",
                    str(metrics_port),
                    env=env_on,
                    log=log,
                )
            )
    except BaseException:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        raise
    metadata = (("authorization", f"Bearer {token}"),)
    image_id = seeded[len(seeded) // 2]
    samples: dict[str, dict[str, list[float]]] = {
        mode: {"floor": [], "get": [], "list100": []} for mode in ports
    }
    channels = {mode: grpc.insecure_channel(f"127.0.0.1:{port}") for mode, port in ports.items()}
    try:
        calls = {}
        for mode, channel in channels.items():
            images = image_service_pb2_grpc.ImageServiceStub(channel)
            floor = channel.unary_unary(FLOOR_METHOD, request_serializer=None, response_deserializer=None)
            calls[mode] = {
                "floor": lambda floor=floor: floor(b"", metadata=metadata, timeout=5),
                "get": lambda images=images: images.Get(
                    isv.GetImageRequest(image_id=image_id), metadata=metadata, timeout=5
                ),
                "list100": lambda images=images: images.List(
                    isv.ListImagesRequest(folder_id=FOLDER, page_size=100), metadata=metadata, timeout=10
                ),
            }
        for _ in range(5):
            for mode in ("off", "on"):
                for name, call in calls[mode].items():
                    count = 200 if name == "list100" else 1000
                    samples[mode][name].append(latency(call, count=count, warmup=50)["p50"])
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
                scraped = response.read()
        assert b"imageservice_rpc_requests_total" in scraped
    finally:
        for channel in channels.values():
            channel.close()
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    # The median of the rounds' p50s: one noisy round on a shared machine does not decide.
    return {
        mode: {name: statistics.median(values) for name, values in by_name.items()}
        for mode, by_name in samples.items()
    }


def measure(address, token, seeded, filter_tokens, latency, throughput) -> dict:
    from images.api.gen.yandex.cloud.compute.v1 import image_pb2, image_service_pb2_grpc
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
    from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
    from images.api.gen.yandex.cloud.operation import operation_service_pb2_grpc
    from images.grpc.server import FLOOR_METHOD

    channel = grpc.insecure_channel(address)
    metadata = (("authorization", f"Bearer {token}"),)
    images = image_service_pb2_grpc.ImageServiceStub(channel)
    operations = operation_service_pb2_grpc.OperationServiceStub(channel)
    floor_call = channel.unary_unary(FLOOR_METHOD, request_serializer=None, response_deserializer=None)
    image_id = seeded[len(seeded) // 2]
    family = "family-0500"

    def floor():
        floor_call(b"", metadata=metadata, timeout=5)

    def get():
        images.Get(isv.GetImageRequest(image_id=image_id), metadata=metadata, timeout=5)

    def latest():
        images.GetLatestByFamily(
            isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family=family), metadata=metadata, timeout=5
        )

    results: dict = {}
    for name, call in (("floor", floor), ("get", get), ("latest", latest)):
        results[name] = latency(call, count=3000, warmup=300)
        results[name]["rps8"] = throughput(call, threads=8, seconds=3)

    def list_page(size, token=""):
        return images.List(
            isv.ListImagesRequest(folder_id=FOLDER, page_size=size, page_token=token),
            metadata=metadata,
            timeout=10,
        )

    results["list100_first"] = latency(lambda: list_page(100), count=500)
    token = ""
    for _ in range(899):
        token = list_page(100, token).next_page_token
    page_900 = token
    assert list_page(100, page_900).images, "page 900 must not be empty"
    results["list100_page900"] = latency(lambda: list_page(100, page_900), count=500)
    results["list1000"] = latency(lambda: list_page(1000), count=100, warmup=10)
    results.update(measure_queries(images, metadata, latency, filter_tokens))

    def create_to_ready(poll_seconds=0.001):
        operation = images.Create(
            isv.CreateImageRequest(folder_id=FOLDER, image_id=image_id, family="bench-copies"),
            metadata=metadata,
            timeout=5,
        )
        while not operation.done:
            time.sleep(poll_seconds)
            operation = operations.Get(
                osv.GetOperationRequest(operation_id=operation.id), metadata=metadata, timeout=5
            )
        if operation.WhichOneof("result") != "response":
            raise RuntimeError(f"create failed: {operation.error.message}")
        image = image_pb2.Image()
        operation.response.Unpack(image)
        assert image.status == image_pb2.Image.READY

    results["create"] = latency(create_to_ready, count=300, warmup=20)
    # Eight callers polling every millisecond would measure the poll load; 5 ms keeps it small.
    results["create"]["ops8"] = throughput(lambda: create_to_ready(0.005), threads=8, seconds=5)
    channel.close()
    return results


# The queries an operator runs, the same kinds as benchmarks/scale.py at 1,000,000: every order first
# and 90% deep, each filter kind with rare, common and empty matches, filter + order (first and 90%
# deep). Each is a List of 100 (p50 beside the 10 ms target).
ORDER_CASES = ["id desc", "name", "name desc", "createdAt", "createdAt desc"]
FILTER_CASES = {
    "status_error": ('status = "ERROR"', ""),
    "status_common": ('status = "READY"', ""),
    "status_empty": ('status = "CREATING"', ""),
    "status_error_created_desc": ('status = "ERROR"', "createdAt desc"),
    "label_rare": ('labels.build = "50"', ""),
    "label_common": ('labels.env = "prod"', ""),
    "label_empty": ('labels.env = "nowhere"', ""),
    "label_common_name": ('labels.env = "prod"', "name"),
    "label_rare_created_desc": ('labels.build = "50"', "createdAt desc"),
    "label_has_key_rare": ("labels.hotfix:*", ""),
    "label_has_key": ("labels.env:*", "createdAt desc"),
    "search_contains": ('name:"v0050"', ""),
    "search_contains_common": ('name:"family"', ""),
    "search_contains_created_desc": ('name:"v0050"', "createdAt desc"),
    "search_contains_empty": ('name:"zzzz"', ""),
    "search_prefix": ('name:"family-0500*"', "name"),
    "family_timeline": ('family = "family-0500"', "createdAt desc"),
}
DEEP_FILTER_CASES = ["status_error_created_desc", "label_common_name", "family_timeline"]


def deep_tokens() -> dict[str, str]:
    """Tokens of the pages 90% into each filtered deep case's matches, found in the database once."""
    from benchmarks.scale import deep_token

    return {name: deep_token(FOLDER, *FILTER_CASES[name]) for name in DEEP_FILTER_CASES}


def measure_queries(images, metadata, latency, filter_tokens: dict[str, str]) -> dict:
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv

    def page(size, token="", filter="", order_by=""):
        request = isv.ListImagesRequest(
            folder_id=FOLDER, page_size=size, page_token=token, filter=filter, order_by=order_by
        )
        return images.List(request, metadata=metadata, timeout=30)

    def deep_token(filter, order_by) -> str:
        # Tokens are bound to folder, filter and order, not to the page size: 1000-row steps get there.
        token = ""
        for _ in range(IMAGES * 9 // 10 // 1000):
            token = page(1000, token, filter, order_by).next_page_token
        return token

    results = {}
    for order_by in ORDER_CASES:
        key = order_by.replace(" ", "_")
        results[f"order_{key}_first"] = latency(lambda o=order_by: page(100, order_by=o), count=200)
        token = deep_token("", order_by)
        results[f"order_{key}_deep90"] = latency(
            lambda o=order_by, t=token: page(100, t, order_by=o), count=200
        )
    for name, (filter, order_by) in FILTER_CASES.items():
        results[f"filter_{name}"] = latency(
            lambda f=filter, o=order_by: page(100, filter=f, order_by=o), count=200
        )
    for name, token in filter_tokens.items():
        filter, order_by = FILTER_CASES[name]
        assert page(100, token, filter, order_by).images, name
        results[f"filter_{name}_deep90"] = latency(
            lambda f=filter, o=order_by, t=token: page(100, t, f, o), count=200
        )
    return results


if __name__ == "__main__":
    main()
