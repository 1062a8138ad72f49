"""Restart recovery: 1,500 pending operations left by a SIGKILLed server, recovered by the next start.

Measured from a real restart: `grpcserver --workers 0` accepts 1,500 disk Creates (nothing runs
them), is SIGKILLed, and a new server starts on the same database; the figures are the server's
own "recovered N operations in X s" log line and the time from its start to health SERVING.
"""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

FOLDER = "bench-recovery"
OPERATIONS = 1500
GIB = 1024**3
RECOVERED = re.compile(r"recovered (\d+) operations in ([0-9.]+) s")


def measure_recovery(token: str, log_dir: Path) -> dict:
    from django.db import connection

    from benchmarks.harness import free_port, start_backend
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2_grpc
    from images.domain.sources import source_register
    from images.store.models import Operation, OperationState

    disk = source_register(kind="disk", folder_id=FOLDER, size=GIB).id
    connection.close()
    env = dict(os.environ, IMAGESERVICE_LOG_LEVEL="INFO")
    port = free_port()
    with open(log_dir / f"bench-recovery-seed-{connection.vendor}.log", "w") as log:
        idle = start_backend(port, "--workers", "0", env=env, log=log)

    def create_some(count: int) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            images = image_service_pb2_grpc.ImageServiceStub(channel)
            request = isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk)
            for _ in range(count):
                images.Create(request, metadata=(("authorization", f"Bearer {token}"),), timeout=30)

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(create_some, OPERATIONS // 8 + (i < OPERATIONS % 8)) for i in range(8)]:
            future.result()
    idle.send_signal(signal.SIGKILL)
    idle.wait(timeout=30)
    pending = Operation.objects.filter(state=OperationState.PENDING).count()
    connection.close()

    log_path = log_dir / f"bench-recovery-{connection.vendor}.log"
    started = time.perf_counter()
    with open(log_path, "w") as log:
        server = start_backend(port, "--workers", "2", env=env, log=log)
    to_serving = time.perf_counter() - started
    try:
        found = RECOVERED.search(log_path.read_text())
        left = Operation.objects.filter(state=OperationState.PENDING).count()
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    if found is None:
        raise RuntimeError(f"no recovery line in {log_path}")
    return {
        "pending": pending,
        "recovered": int(found.group(1)),
        "seconds": float(found.group(2)),
        "to_serving_seconds": to_serving,
        "left_pending": left,
    }
