"""Restart and recovery through real `grpcserver` processes: one process per SQLite database, a
cancel persisted before a SIGKILL, and operations accepted while a restarted server recovers."""

from __future__ import annotations

import random
import signal

import pytest
from django.db import connection

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.support import image_id_of, wait_until
from tests.conftest import ApiClient
from tests.importer.apiserver import HeldImageServer
from tests.processes import free_port

FOLDER = "folder-recovery"
MiB = 1024 * 1024
pytestmark = pytest.mark.slow
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite is the one-process mode; PostgreSQL allows replicas"
)


@pytest.fixture(scope="module")
def held_http(tmp_path_factory):
    """A local HTTP server whose /gate/disk.raw sends 1 MiB + 1 byte, then the rest on open_gate()."""
    root = tmp_path_factory.mktemp("served")
    (root / "disk.raw").write_bytes(random.Random(7).randbytes(4 * MiB))
    server = HeldImageServer(root)
    yield server
    server.reset()
    server.close()


@pytest.fixture
def http(held_http):
    held_http.reset()
    yield held_http
    held_http.reset()


@pytest.fixture
def import_env(http) -> dict:
    return {
        "IMAGESERVICE_IMPORT_ALLOWED_HOSTS": f"127.0.0.1:{http.port}",
        "IMAGESERVICE_IMPORT_ALLOW_HTTP": "1",
    }


@pytest.fixture
def editor_token(transactional_db):
    from images.auth import create_token

    return create_token(name="recovery-editor", role="editor")


def create_from_uri(client: ApiClient, uri: str):
    return client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, uri=uri))


def partial_downloads(data_dir) -> dict:
    """{temporary file name: size} under the data directory's tmp/."""
    tmp = data_dir / "tmp"
    return {path.name: path.stat().st_size for path in tmp.iterdir()} if tmp.is_dir() else {}


# --- one process per SQLite database ----------------------------------------------------------------


@sqlite_only
def test_a_second_server_on_the_same_sqlite_database_refuses_to_start_and_touches_nothing(
    servers, editor_token, http, import_env, tmp_path
):
    from images.models import Operation, OperationState

    first = servers(free_port(), workers=1, env=import_env)
    first.wait_serving()
    client = ApiClient(first.address, editor_token)
    operation = create_from_uri(client, http.url("/gate/disk.raw"))
    data_dir = tmp_path / "data"
    wait_until(
        lambda: sum(partial_downloads(data_dir).values()) >= MiB, timeout=20, message="a partial download"
    )
    before = Operation.objects.get(id=operation.id)
    downloads = partial_downloads(data_dir)

    second = servers(free_port(), workers=1, env=import_env)

    assert second.process.wait(timeout=60) != 0
    lines = second.output().strip().splitlines()
    assert len(lines) == 1, lines
    database = connection.settings_dict["NAME"]
    assert str(database) in lines[0] and f"PID {first.process.pid}" in lines[0], lines[0]
    after = Operation.objects.get(id=operation.id)
    assert (after.state, after.error_code, after.lease_owner) == (
        OperationState.RUNNING,
        None,
        before.lease_owner,
    )
    assert partial_downloads(data_dir) == downloads
    http.open_gate()
    done = client.wait(operation.id, timeout=30)
    assert done.WhichOneof("result") == "response", done.error
    client.close()

    first.process.send_signal(signal.SIGKILL)
    first.kill()
    restarted = servers(first.port, workers=1, env=import_env)
    restarted.wait_serving()  # the dead server's lock file is left behind, but not its lock
    assert image_id_of(operation)
