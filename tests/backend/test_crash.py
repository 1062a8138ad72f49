"""The real `manage.py grpcserver` process against the test database: SIGKILL while operations run
and recovery before SERVING, SIGTERM's graceful stop, and a second server on a taken port."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from django.db import connection
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import image_id_of, wait_until
from tests.conftest import ApiClient
from tests.processes import ServerProcess, free_port

FOLDER = "folder-crash"
GIB = 1024**3
pytestmark = pytest.mark.slow


@pytest.fixture
def editor_token(transactional_db):
    from images.domain.auth import create_token

    return create_token(name="crash-editor", role="editor")


def new_disk(size: int = GIB) -> str:
    from images.domain.sources import source_register

    return source_register(kind="disk", folder_id=FOLDER, size=size).id


def unfinished() -> tuple[int, int]:
    """(operations not done, images CREATING or DELETING) in the database."""
    from images.store.models import Image, ImageStatus, Operation, OperationState

    return (
        Operation.objects.exclude(state=OperationState.DONE).count(),
        Image.objects.filter(status__in=[ImageStatus.CREATING, ImageStatus.DELETING]).count(),
    )


def hammer_then_kill(
    server: ServerProcess, token: str, disks: list[str], mutate: list[str], tag: str
) -> list[str]:
    """Eight clients start operations (updates and deletes of `mutate`, then creates) as fast as the
    server takes them; the server is SIGKILLed as soon as 150 were accepted. Returns their ids."""
    accepted: list[str] = []
    accepted_lock = threading.Lock()
    enough = threading.Event()

    def hammer(index: int) -> None:
        mine = ApiClient(server.address, token)
        try:
            round_ = 0
            while not enough.is_set():
                round_ += 1
                if index < 2 and round_ <= len(mutate) // 2:
                    image_id = mutate[index * (len(mutate) // 2) + round_ - 1]
                    if round_ % 2:
                        request = isv.UpdateImageRequest(
                            image_id=image_id,
                            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
                            description=f"updated-{round_}",
                        )
                        operation = mine.call(mine.images.Update, request)
                    else:
                        operation = mine.call(mine.images.Delete, isv.DeleteImageRequest(image_id=image_id))
                else:
                    request = isv.CreateImageRequest(
                        folder_id=FOLDER, disk_id=disks[index % len(disks)], name=f"{tag}-{index}-{round_}"
                    )
                    operation = mine.call(mine.images.Create, request)
                with accepted_lock:
                    accepted.append(operation.id)
                    if len(accepted) >= 150:
                        enough.set()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:  # the kill cuts calls off: expected
                raise
        finally:
            mine.close()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(hammer, index) for index in range(8)]
        assert enough.wait(timeout=60)
        server.process.send_signal(signal.SIGKILL)  # while the creates still arrive and the worker runs
        for future in futures:
            future.result(timeout=60)
    server.kill()
    assert server.process.returncode == -signal.SIGKILL
    return accepted


def test_sigkill_while_operations_run_then_restart_finishes_every_operation(servers, editor_token):
    from images.store.models import Image, ImageStatus, Operation

    port = free_port()
    server = servers(port, workers=1)
    server.wait_serving()
    client = ApiClient(server.address, editor_token)
    disks = [new_disk() for _ in range(4)]
    # READY images to update and delete while the creates pour in.
    base = [
        client.wait(
            client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disks[0])).id
        )
        for _ in range(12)
    ]
    client.close()
    mutate = [image_id_of(operation) for operation in base]
    accepted = []
    # The worker may, rarely, keep up with the clients until the kill; then the kill interrupted
    # nothing and proves nothing, so the hammering runs again (each restart recovers first).
    for attempt in range(3):
        if attempt:
            server = servers(port, workers=1)
            server.wait_serving()
        accepted += hammer_then_kill(
            server, editor_token, disks, mutate if attempt == 0 else [], f"a{attempt}"
        )
        operations_left, images_left = unfinished()
        if operations_left and images_left:
            break
    assert operations_left > 0 and images_left > 0, (operations_left, images_left)

    second = servers(port, workers=1)
    second.wait_serving()
    # SERVING means recovered: nothing may be left unfinished at this moment.
    assert unfinished() == (0, 0)
    client = ApiClient(second.address, editor_token)
    try:
        stuck = client.call(
            client.images.List,
            isv.ListImagesRequest(
                folder_id=FOLDER, filter='status IN ("CREATING", "DELETING")', page_size=1000
            ),
        )
        assert list(stuck.images) == []
        for operation_id in accepted:
            operation = client.call(client.operations.Get, osv.GetOperationRequest(operation_id=operation_id))
            assert operation.done, operation_id
            assert operation.WhichOneof("result") == "response", operation.error
    finally:
        client.close()
    assert Image.objects.filter(status=ImageStatus.READY).count() == Image.objects.count()
    assert not Operation.objects.filter(error_code__isnull=False).exists()
    assert "recovered" in second.output()


def test_sigterm_reports_not_serving_then_exits_cleanly(servers, editor_token):
    server = servers(free_port(), workers=1)
    server.wait_serving()
    channel = grpc.insecure_channel(server.address)
    statuses = []
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=60)
        statuses.append(next(watch).status)
        server.process.send_signal(signal.SIGTERM)
        for response in watch:
            statuses.append(response.status)
            if response.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                watch.cancel()
                break
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.CANCELLED, error
    finally:
        channel.close()
    assert statuses == [health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING]
    assert server.process.wait(timeout=30) == 0, server.output()
    assert "shutting down" in server.output()
    assert "Traceback" not in server.output()


def test_a_second_server_on_the_same_port_fails_loudly(servers, editor_token, tmp_path):
    port = free_port()
    first = servers(port, workers=1)
    first.wait_serving()
    # SQLite: a database of its own, or the first server's database lock would refuse it first.
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}"} if connection.vendor == "sqlite" else {}
    second = servers(port, workers=1, env=env)
    assert second.process.wait(timeout=60) != 0
    assert f"could not listen on 127.0.0.1:{port}" in second.output()
    assert first.health() == health_pb2.HealthCheckResponse.SERVING
    assert first.process.poll() is None


def test_health_is_not_serving_until_recovery_has_finished(servers, editor_token):
    """A server died with a queue of pending operations (here: one that ran no worker); the next one
    must not report SERVING while it still recovers them (held up here by a lock on those rows)."""
    from django.db import transaction

    from images.store.models import Operation

    port = free_port()
    idle = servers(port, workers=0)
    idle.wait_serving()
    client = ApiClient(idle.address, editor_token)
    disk = new_disk()
    accepted = [
        client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk)).id
        for _ in range(20)
    ]
    client.close()
    assert unfinished() == (20, 20)
    idle.process.send_signal(signal.SIGKILL)
    idle.kill()
    with transaction.atomic():
        # SQLite: this transaction holds the write lock; PostgreSQL: these row locks.
        list(Operation.objects.select_for_update().filter(id__in=accepted))
        restarted = servers(port, workers=1)
        status = wait_until(restarted.health, timeout=60, interval=0.02, message="health answering")
        assert status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert unfinished() == (20, 20)
    restarted.wait_serving()
    assert unfinished() == (0, 0)
    assert Operation.objects.filter(id__in=accepted, error_code__isnull=True).count() == 20
    assert restarted.process.poll() is None
