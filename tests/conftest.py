"""Shared fixtures: a real backend gRPC server on 127.0.0.1:0 against the test database."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from images.api.gen.imageservice.v1 import extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import (
    disk_service_pb2_grpc,
    image_service_pb2_grpc,
    snapshot_service_pb2_grpc,
)
from images.api.gen.yandex.cloud.operation import operation_service_pb2_grpc


@dataclass
class ApiClient:
    """Stubs for one caller: every call carries its bearer token."""

    address: str
    token: str | None
    channel: grpc.Channel = field(init=False)

    def __post_init__(self):
        self.channel = grpc.insecure_channel(self.address)
        self.images = image_service_pb2_grpc.ImageServiceStub(self.channel)
        self.operations = operation_service_pb2_grpc.OperationServiceStub(self.channel)
        self.disks = disk_service_pb2_grpc.DiskServiceStub(self.channel)
        self.snapshots = snapshot_service_pb2_grpc.SnapshotServiceStub(self.channel)
        self.extension = extension_pb2_grpc.ImageExtensionServiceStub(self.channel)

    def metadata(self, idempotency_key: str | None = None, **extra) -> list[tuple[str, str]]:
        pairs = [(k.replace("_", "-"), v) for k, v in extra.items()]
        if self.token is not None:
            pairs.append(("authorization", f"Bearer {self.token}"))
        if idempotency_key:
            pairs.append(("idempotency-key", idempotency_key))
        return pairs

    def call(self, method, request, *, idempotency_key: str | None = None, timeout: float = 10, **extra):
        return method(request, metadata=self.metadata(idempotency_key, **extra), timeout=timeout)

    def wait(self, operation_id: str, timeout: float = 15.0):
        """Polls OperationService.Get until the operation is done (a condition, not a sleep)."""
        from images.api.gen.yandex.cloud.operation import operation_service_pb2

        deadline = time.monotonic() + timeout
        while True:
            operation = self.call(
                self.operations.Get, operation_service_pb2.GetOperationRequest(operation_id=operation_id)
            )
            if operation.done:
                return operation
            if time.monotonic() > deadline:
                raise AssertionError(f"operation {operation_id} not done after {timeout}s")
            time.sleep(0.005)

    def close(self):
        self.channel.close()


class Backend:
    def __init__(self, server):
        self.server = server
        self.address = server.address
        self._clients: list[ApiClient] = []
        self.editor_token = self.create_token("editor-" + uuid.uuid4().hex[:6], "editor")
        self.viewer_token = self.create_token("viewer-" + uuid.uuid4().hex[:6], "viewer")

    def create_token(self, name: str, role: str) -> str:
        from images.domain.auth import create_token

        return create_token(name=name, role=role)

    def register_source(
        self, kind: str, folder_id: str, size: int, product_ids=(), os: str = "linux", **fields
    ) -> str:
        """A new disk or snapshot's id; `fields` are name, description and labels."""
        from images.domain.sources import source_register

        return source_register(
            kind=kind, folder_id=folder_id, size=size, product_ids=list(product_ids), os=os, **fields
        ).id

    def client(self, token: str | None) -> ApiClient:
        client = ApiClient(self.address, token)
        self._clients.append(client)
        return client

    @property
    def editor(self) -> ApiClient:
        return self.client(self.editor_token)

    @property
    def viewer(self) -> ApiClient:
        return self.client(self.viewer_token)

    def wait_operation(self, operation_id: str, timeout: float = 15.0):
        return self.client(self.editor_token).wait(operation_id, timeout)

    def close(self):
        for client in self._clients:
            client.close()


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.IMAGESERVICE_DATA_DIR = tmp_path / "data"
    return settings.IMAGESERVICE_DATA_DIR


@contextmanager
def running_backend(*, workers: int, **options):
    """A real server on 127.0.0.1:0 against the test database, stopped (connections closed) after."""
    from images.grpc.server import build_server

    server = build_server(host="127.0.0.1", port=0, workers=workers, tls_cert="", tls_key="", **options)
    server.start()
    handle = Backend(server)
    try:
        yield handle
    finally:
        handle.close()
        handle.server.stop(grace=1)  # a test may have restarted it


@pytest.fixture
def backend(transactional_db, data_dir):
    with running_backend(workers=2) as handle:
        yield handle


@pytest.fixture
def servers(transactional_db, tmp_path):
    """Starts `grpcserver` processes (tests.processes.ServerProcess); every one still running is
    killed before the database is flushed."""
    from tests.processes import ServerProcess

    started: list[ServerProcess] = []

    def start(port: int, **kwargs) -> ServerProcess:
        server = ServerProcess(port, tmp_path, name=f"server-{len(started)}", **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
    from django.db import connection

    if connection.vendor == "sqlite":  # a lock file outlives its servers, by design
        Path(f"{connection.settings_dict['NAME']}.lock").unlink(missing_ok=True)
