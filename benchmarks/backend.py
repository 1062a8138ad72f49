"""Backend benchmark on one database: seed 100,000 images, then the API against an empty-handler floor.

Run by `python -m benchmarks` (make bench) in its own process per database; prints one JSON line.
"""

from __future__ import annotations

import json
import os
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
        results = measure(f"127.0.0.1:{port}", token, seeded, latency, throughput)
    finally:
        server.terminate()
        server.wait(timeout=30)
    from benchmarks.recovery import measure_recovery

    results["recovery"] = measure_recovery(token, log_path.parent)
    results["seed_seconds"] = seed_seconds
    results["database"] = connection.vendor
    print(json.dumps(results))


def measure(address, token, seeded, latency, throughput) -> dict:
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


if __name__ == "__main__":
    main()
