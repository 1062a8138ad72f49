"""The minimum-progress rule through the real gRPC API: imports from a source that trickles end
DEADLINE_EXCEEDED and give their slots back to the imports queued behind them; cancel still works."""

from __future__ import annotations

import pytest

from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import unpack_image, wait_until
from tests.conftest import ApiClient
from tests.processes import free_port

FOLDER = "folder-stall"
CANCELLED, DEADLINE_EXCEEDED = 1, 4
STALL = "the source stalled: less than 64 KiB arrived in 3 s"
pytestmark = pytest.mark.slow


@pytest.fixture
def client(servers, server, transactional_db):
    """An editor of a grpcserver process with two import slots and a minimum progress of 64 KiB in
    3 s (the `server` fixture is the local HTTP server; its /trickle/ sends 50 bytes a second)."""
    from images.domain.auth import create_token

    backend = servers(
        free_port(),
        env={
            "IMAGESERVICE_IMPORT_ALLOWED_HOSTS": f"127.0.0.1:{server.port}",
            "IMAGESERVICE_IMPORT_ALLOW_HTTP": "1",
            "IMAGESERVICE_IMPORT_CONCURRENCY": "2",
            "IMAGESERVICE_IMPORT_STALL_BYTES": str(64 * 1024),
            "IMAGESERVICE_IMPORT_STALL_SECONDS": "3",
        },
    )
    backend.wait_serving()
    editor = ApiClient(backend.address, create_token(name="stall-editor", role="editor"))
    yield editor
    editor.close()


def create(client: ApiClient, uri: str):
    return client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, uri=uri))


def get(client: ApiClient, operation_id: str):
    return client.call(client.operations.Get, osv.GetOperationRequest(operation_id=operation_id))


def downloads_started(server, prefix: str) -> int:
    return sum(path.startswith(prefix) for path in list(server.served.requests))


def test_stalled_imports_end_deadline_exceeded_and_the_import_queued_behind_them_finishes(client, server):
    stalled = [create(client, server.url("/trickle/v3.qcow2")) for _ in range(2)]
    wait_until(lambda: downloads_started(server, "/trickle/") == 2, timeout=30, message="both slots taken")
    queued = create(client, server.url("/files/v3.qcow2"))
    assert downloads_started(server, "/files/") == 0

    done = client.wait(queued.id, timeout=60)

    assert done.WhichOneof("result") == "response", done.error
    assert unpack_image(done).status == image_pb2.Image.READY
    for operation in stalled:
        ended = get(client, operation.id)  # ended before the queued import could start
        assert ended.done and ended.error.code == DEADLINE_EXCEEDED, ended
        assert ended.error.message.startswith(STALL), ended.error.message
        assert ended.modified_at.ToDatetime() <= done.modified_at.ToDatetime()
    assert downloads_started(server, "/files/") == 1


def test_an_import_is_cancelled_while_its_source_stalls(client, server):
    operation = create(client, server.url("/trickle/v3.qcow2"))
    wait_until(lambda: downloads_started(server, "/trickle/") == 1, timeout=30, message="the download")

    client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=operation.id))

    done = client.wait(operation.id, timeout=30)
    assert done.error.code == CANCELLED, done.error
