"""Several backend replicas (processes) sharing one PostgreSQL database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from django.db import connection
from grpc_health.v1 import health_pb2, health_pb2_grpc

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.conftest import ApiClient
from tests.processes import database_url, free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="replicas share a PostgreSQL database; SQLite is one process"
)


@pytest.fixture
def idle_replica(backend):
    """A second server process on the same database whose worker runs nothing."""
    port = free_port()
    url = database_url()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "grpcserver", "--port", str(port), "--workers", "0"],
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=url),
    )
    address = f"127.0.0.1:{port}"
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 30
        while True:
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    break
            except grpc.RpcError:
                pass
            assert time.monotonic() < deadline, "replica did not start"
            time.sleep(0.05)
    client = ApiClient(address, backend.editor_token)
    yield client
    client.close()
    process.terminate()
    process.wait(timeout=30)


def test_an_operation_accepted_by_one_replica_is_run_at_once_by_another(backend, idle_replica):
    disk = backend.register_source("disk", "replicas", 8 * 1024**3)
    timings = []
    for _ in range(3):
        started = time.monotonic()
        operation = idle_replica.call(
            idle_replica.images.Create, isv.CreateImageRequest(folder_id="replicas", disk_id=disk)
        )
        done = idle_replica.wait(operation.id)
        timings.append(time.monotonic() - started)
        assert done.WhichOneof("result") == "response"
    # The working replica hears NOTIFY at commit; its fallback poll alone would take up to 1 s.
    assert min(timings) < 0.3, timings
