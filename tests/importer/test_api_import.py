"""Create from a URI end to end through the real gRPC API: a real backend, real disk images served by a
real HTTP server, the import in its child process; sizes, rejections, progress, cancel, secrets,
shared data, a SIGKILLed server and the parallelism limit."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from pathlib import Path

import grpc
import pytest
from django.conf import settings as django_settings

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from images.importer.errors import DOWNLOAD_FAILED
from images.importer.fetch import CHUNK_SIZE
from tests.backend.support import assert_invalid, image_id_of, raises_rpc, unpack_image, wait_until
from tests.conftest import ApiClient
from tests.importer import diskimages
from tests.importer.apiserver import HeldImageServer
from tests.processes import free_port

FOLDER = "folder-imports"
MiB = 1024 * 1024
SECRET = "X-Amz-Signature=SECRET123&X-Amz-Credential=KEYID42"
SECRET_PARTS = ("SECRET123", "KEYID42")
CANCELLED, INVALID_ARGUMENT, ABORTED, UNAVAILABLE = 1, 3, 10, 14
MANAGE = Path(django_settings.BASE_DIR) / "manage.py"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def held_server(disk_images):
    server = HeldImageServer(disk_images.root)
    yield server
    server.reset()
    server.close()


@pytest.fixture
def http(held_server):
    """The session's HTTP server with a fresh record; handlers this test left waiting are woken after."""
    held_server.reset()
    yield held_server
    held_server.reset()


@pytest.fixture
def import_settings(settings, http):
    """The import policy reaches the child process pickled from these, so they apply to the backend."""
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{http.port}"]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    settings.IMAGESERVICE_IMPORT_CONCURRENCY = 2
    return settings


@pytest.fixture
def api(import_settings, backend):
    """The backend, started after the import settings."""
    return backend


@pytest.fixture
def client(api):
    return api.editor


# --- helpers -------------------------------------------------------------------------------------


def create(client: ApiClient, uri: str, **fields):
    return client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, uri=uri, **fields))


def progress_of(client: ApiClient, operation_id: str) -> extension_pb2.OperationWithProgress:
    stub = extension_pb2_grpc.ImageExtensionServiceStub(client.channel)
    response = client.call(
        stub.BatchGetOperations, extension_pb2.BatchGetOperationsRequest(operation_ids=[operation_id])
    )
    (found,) = response.operations
    return found


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def temp_files(data_dir: Path) -> list[Path]:
    return files_under(data_dir / "tmp")


def blob_files(data_dir: Path) -> list[Path]:
    return files_under(data_dir / "blobs")


def assert_image_gone(client: ApiClient, image_id: str) -> None:
    from images.store.models import Image

    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(client.images.Get, isv.GetImageRequest(image_id=image_id))
    assert not Image.objects.filter(id=image_id).exists()


def assert_failed_and_rolled_back(client, operation, data_dir, code: int):
    done = client.wait(operation.id)
    assert done.WhichOneof("result") == "error", done
    assert done.error.code == code, done.error
    assert_image_gone(client, image_id_of(operation))
    assert blob_files(data_dir) == []
    assert temp_files(data_dir) == []
    return done


def import_processes_alive() -> list[multiprocessing.Process]:
    return [child for child in multiprocessing.active_children() if child.name == "image-import"]


# --- formats, sizes, rejections -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "v2.qcow2",
        "v3.qcow2",
        "monolithicSparse.vmdk",
        "streamOptimized.vmdk",
        "fixed.vhd",
        "dynamic.vhd",
        "disk.raw",
        "data.raw",  # virtual size below 4 MiB: min_disk_size is the floor
        "4tib.qcow2",  # the largest virtual size accepted
    ],
)
def test_create_from_uri_stores_the_image_and_sizes_it_from_its_content(
    client, http, disk_images, data_dir, name
):
    from images.store.models import Image

    path, disk_format = disk_images.accepted[name]
    data = path.read_bytes()
    virtual = diskimages.qemu_info(path, disk_format)["virtual-size"]  # whole sectors, like qemu
    operation = create(client, http.url(f"/files/{name}"), name="imported")
    assert not operation.done

    done = client.wait(operation.id)

    assert done.WhichOneof("result") == "response", done.error
    image = unpack_image(done)
    assert image.id == image_id_of(operation)
    assert image.status == image_pb2.Image.READY
    assert image.size == virtual
    assert image.storage_size == len(data)
    assert image.min_disk_size == max(virtual, 4 * MiB)
    assert client.call(client.images.Get, isv.GetImageRequest(image_id=image.id)) == image
    sha256 = hashlib.sha256(data).hexdigest()
    assert Image.objects.get(id=image.id).blob == sha256
    assert blob_files(data_dir) == [data_dir / "blobs" / sha256[:2] / sha256]
    assert blob_files(data_dir)[0].read_bytes() == data
    assert temp_files(data_dir) == []
    assert http.requests_to("/files/") == [f"/files/{name}"]


def test_a_requested_min_disk_size_equal_to_the_virtual_size_is_kept(client, http, data_dir):
    done = client.wait(create(client, http.url("/files/disk.raw"), min_disk_size=6 * MiB).id)
    assert done.WhichOneof("result") == "response", done.error
    assert unpack_image(done).min_disk_size == 6 * MiB


def test_a_requested_min_disk_size_below_the_virtual_size_fails_and_rolls_back(client, http, data_dir):
    operation = create(client, http.url("/files/v3.qcow2"), min_disk_size=6 * MiB - 1)
    done = assert_failed_and_rolled_back(client, operation, data_dir, INVALID_ARGUMENT)
    assert done.error.message == (
        f"min_disk_size ({6 * MiB - 1} bytes) is below the image's virtual size ({6 * MiB} bytes)"
    )


@pytest.mark.parametrize(
    "name",
    [
        "backing.qcow2",
        "data-file.qcow2",
        "aes.qcow2",
        "above-4tib.qcow2",
        "parent-hint.vmdk",
        "flat.vmdk",
        "differencing.vhd",
        "image.vhdx",
        "qcow2-with-mbr.qcow2",
        "empty.raw",
        "text.raw",
        "small.raw",
        "odd-size.raw",
    ],
)
def test_a_rejected_image_ends_the_operation_invalid_argument_saying_why(
    client, http, disk_images, data_dir, name
):
    _, reason = disk_images.refused[name]
    operation = create(client, http.url(f"/files/{name}"))
    done = assert_failed_and_rolled_back(client, operation, data_dir, INVALID_ARGUMENT)
    assert reason in done.error.message
    assert "\n" not in done.error.message and "Traceback" not in done.error.message


def test_a_backing_file_is_refused_with_exactly_that_reason(client, http, data_dir):
    done = assert_failed_and_rolled_back(
        client, create(client, http.url("/files/backing.qcow2")), data_dir, INVALID_ARGUMENT
    )
    assert done.error.message == "qcow2 images with a backing file are not accepted"


# --- the URL policy, before any operation or connection -------------------------------------------


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://localhost:{port}/files/v3.qcow2", "is not in the import allowlist"),
        ("http://127.0.0.2:{port}/files/v3.qcow2", "IP addresses are not accepted"),
        ("http://127.0.0.1:1/files/v3.qcow2", "IP addresses are not accepted"),
        ("http://2130706433:{port}/files/v3.qcow2", "IP addresses are not accepted"),
        ("http://0x7f000001:{port}/files/v3.qcow2", "IP addresses are not accepted"),
        ("http://127.1:{port}/files/v3.qcow2", "IP addresses are not accepted"),
        ("http://[::ffff:127.0.0.1]:{port}/files/v3.qcow2", "IP addresses are not accepted"),
        ("http://user:pw@127.0.0.1:{port}/files/v3.qcow2", "user name or password"),
        ("ftp://127.0.0.1:{port}/files/v3.qcow2", "only http and https"),
    ],
)
def test_create_refuses_a_uri_the_policy_forbids_without_operation_or_connection(client, http, uri, reason):
    from images.store.models import Image, Operation

    with raises_rpc() as caught:
        create(client, uri.format(port=http.port))
    assert reason in assert_invalid(caught, "uri")
    assert not Operation.objects.exists() and not Image.objects.exists()
    assert http.served.requests == [] and http.connections == 0


def test_create_refuses_plain_http_unless_it_is_allowed(client, http, import_settings):
    from images.store.models import Operation

    import_settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = False
    with raises_rpc() as caught:
        create(client, http.url("/files/v3.qcow2"))
    assert assert_invalid(caught, "uri") == "only https URIs are accepted"
    assert not Operation.objects.exists()
    assert http.served.requests == [] and http.connections == 0


def test_create_refuses_an_address_the_allowlist_no_longer_names(client, http, import_settings):
    import_settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = ["storage.yandexcloud.net"]
    with raises_rpc() as caught:
        create(client, http.url("/files/v3.qcow2"))
    assert "IP addresses are not accepted" in assert_invalid(caught, "uri")
    assert http.connections == 0


# --- fetch failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/status/404", "/status/500", "/short/disk.raw", "/echo", "/to/elsewhere", "/gzip/v3.qcow2"]
)
def test_a_failed_download_ends_the_operation_with_the_one_generic_message(client, http, data_dir, path):
    http.locations["elsewhere"] = f"http://localhost:{http.port}/files/v3.qcow2"  # not allowlisted
    operation = create(client, http.url(path))
    done = assert_failed_and_rolled_back(client, operation, data_dir, UNAVAILABLE)
    assert done.error.message == DOWNLOAD_FAILED
    assert len(http.served.requests) == 1  # one request: no retry, and the refused redirect not followed


# --- progress -------------------------------------------------------------------------------------


def test_progress_reports_the_bytes_received_while_the_download_runs(client, http, disk_images, data_dir):
    size = disk_images.path("disk.raw").stat().st_size
    assert size > 4 * CHUNK_SIZE
    operation = create(client, http.url("/metered/disk.raw"))
    image_id = image_id_of(operation)
    # The download starts, and the server holds back its body: nothing received yet.
    wait_until(lambda: http.requests_to("/metered/"), message="the download started")
    image = client.call(client.images.Get, isv.GetImageRequest(image_id=image_id))
    assert image.status == image_pb2.Image.CREATING

    seen = []
    for allowed in (CHUNK_SIZE, 3 * CHUNK_SIZE, 4 * CHUNK_SIZE):
        http.allow(allowed)

        def reached(allowed=allowed):
            found = progress_of(client, operation.id)
            assert not found.operation.done, found.operation
            assert found.progress.bytes_done <= allowed  # never ahead of what was sent
            seen.append(found.progress.bytes_done)
            return found.progress.bytes_done == allowed

        wait_until(reached, timeout=10, interval=0.02, message=f"progress at {allowed} bytes")
        found = progress_of(client, operation.id).progress
        assert (found.phase, found.bytes_done, found.bytes_total) == ("downloading", allowed, size)
    assert seen == sorted(seen)

    http.allow(size)
    done = client.wait(operation.id)
    assert done.WhichOneof("result") == "response", done.error
    assert unpack_image(done).storage_size == size


def test_progress_shows_the_bytes_received_before_the_download_stalled(client, http, data_dir):
    operation = create(client, http.url("/slow/disk.raw"))  # 1 MiB + 1 byte, then nothing
    wait_until(
        lambda: progress_of(client, operation.id).progress.bytes_done == CHUNK_SIZE,
        timeout=10,
        interval=0.02,
        message="progress at the first chunk",
    )
    assert progress_of(client, operation.id).progress.bytes_total == 6 * MiB


# --- cancel ---------------------------------------------------------------------------------------


def test_cancel_mid_download_ends_cancelled_within_a_second_and_leaves_nothing(client, http, data_dir):
    operation = create(client, http.url("/slow/disk.raw"))
    image_id = image_id_of(operation)
    wait_until(
        lambda: sum(p.stat().st_size for p in temp_files(data_dir)) >= MiB,
        timeout=10,
        message="a partial download on disk",
    )

    cancelled = client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=operation.id))
    asked = time.monotonic()
    assert cancelled.id == operation.id
    done = client.wait(operation.id, timeout=5)
    took = time.monotonic() - asked

    assert done.error.code == CANCELLED, done.error
    assert took < 1.0, f"cancel took {took:.2f} s"
    assert_image_gone(client, image_id)
    assert temp_files(data_dir) == [] and blob_files(data_dir) == []
    wait_until(lambda: not import_processes_alive(), timeout=5, message="the import process exited")


def test_cancelling_a_finished_import_changes_nothing(client, http, data_dir):
    done = client.wait(create(client, http.url("/files/v3.qcow2")).id)
    again = client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=done.id))
    assert again == done
    image = client.call(client.images.Get, isv.GetImageRequest(image_id=image_id_of(done)))
    assert image.status == image_pb2.Image.READY and len(blob_files(data_dir)) == 1


# --- the pre-signed query string stays secret -----------------------------------------------------


def assert_no_secret(label: str, text: str | bytes) -> None:
    for part in SECRET_PARTS:
        needle = part.encode() if isinstance(text, bytes) else part
        assert needle not in text, f"the secret {part} appears in {label}"


def assert_secret_nowhere(client, operation, caplog, capfd) -> str:
    """Checks every place the secret could reach; returns the captured stderr."""
    from django.core import serializers

    from images.store.models import IdempotencyKey, Image, Operation

    assert_no_secret("the Create response", operation.SerializeToString())
    done = client.call(client.operations.Get, osv.GetOperationRequest(operation_id=operation.id))
    assert_no_secret("OperationService.Get", done.SerializeToString())
    assert_no_secret("BatchGetOperations", progress_of(client, operation.id).SerializeToString())
    image_id = image_id_of(operation)
    if Image.objects.filter(id=image_id).exists():
        image = client.call(client.images.Get, isv.GetImageRequest(image_id=image_id))
        assert_no_secret("ImageService.Get", image.SerializeToString())
        listed = client.call(client.images.ListOperations, isv.ListImageOperationsRequest(image_id=image_id))
        assert listed.operations and listed.operations[0].id == operation.id
        assert_no_secret("ListOperations", listed.SerializeToString())
    for model in (Operation, Image, IdempotencyKey):
        assert_no_secret(f"the {model.__name__} table", serializers.serialize("json", model.objects.all()))
    row = Operation.objects.get(id=operation.id)
    assert row.payload["source"]["uri"].startswith("http://127.0.0.1:")
    assert "?" not in row.payload["source"]["uri"]
    assert_no_secret("the operation's payload", repr(row.payload))
    assert_no_secret("the operation's error", row.error_message)
    assert_no_secret("the operation's response", bytes(row.response or b""))
    records = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert records, "nothing was logged"
    assert_no_secret("the log records", "\n".join(records) + caplog.text)
    out, err = capfd.readouterr()
    assert_no_secret("stdout/stderr (the import process logs there)", out + err)
    return err


@pytest.mark.parametrize(
    ("path", "outcome", "child_logs"),
    [
        ("/files/v3.qcow2", "response", "imported http://127.0.0.1"),
        ("/status/404", "error", "HTTP status 404"),
        ("/echo", "error", "BadStatusLine"),  # a server that echoes the request line back
        ("/short/disk.raw", "error", "declared bytes"),
        ("/files/backing.qcow2", "error", "with a backing file are not accepted"),
    ],
)
def test_the_presigned_query_string_appears_nowhere(
    client, http, data_dir, caplog, capfd, path, outcome, child_logs
):
    caplog.set_level(logging.DEBUG)
    operation = create(client, http.url(f"{path}?{SECRET}"))
    done = client.wait(operation.id)
    assert done.WhichOneof("result") == outcome, done
    # The server really received the secret: the full URI was used to fetch, and only there.
    assert http.served.requests == [f"{path}?{SECRET}"]
    err = assert_secret_nowhere(client, operation, caplog, capfd)
    assert child_logs in err  # the import process's log was captured, and checked above


def test_the_query_string_of_a_cancelled_import_appears_nowhere(client, http, data_dir, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    operation = create(client, http.url(f"/slow/disk.raw?{SECRET}"))
    wait_until(lambda: http.requests_to("/slow/"), message="the download started")
    client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=operation.id))
    assert client.wait(operation.id).error.code == CANCELLED
    assert_secret_nowhere(client, operation, caplog, capfd)


# --- content addressing ---------------------------------------------------------------------------


def delete(client, image_id: str) -> None:
    done = client.wait(client.call(client.images.Delete, isv.DeleteImageRequest(image_id=image_id)).id)
    assert done.WhichOneof("result") == "response", done.error


def test_copies_and_reimports_share_one_blob_that_the_last_reference_removes(
    client, http, disk_images, data_dir
):
    from images.store.models import Image

    data = disk_images.path("v3.qcow2").read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    stored = data_dir / "blobs" / sha256[:2] / sha256
    original = unpack_image(client.wait(create(client, http.url("/files/v3.qcow2")).id))
    copy_operation = client.call(
        client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, image_id=original.id)
    )
    copy = unpack_image(client.wait(copy_operation.id))
    again = unpack_image(client.wait(create(client, http.url("/chunked/v3.qcow2")).id))

    assert copy.status == again.status == image_pb2.Image.READY
    assert (copy.size, copy.storage_size, copy.min_disk_size) == (
        original.size,
        original.storage_size,
        original.min_disk_size,
    )
    assert again.storage_size == original.storage_size == len(data)
    assert set(Image.objects.values_list("blob", flat=True)) == {sha256}
    assert blob_files(data_dir) == [stored]

    delete(client, original.id)
    assert stored.read_bytes() == data
    delete(client, copy.id)
    assert stored.read_bytes() == data
    assert (
        client.call(client.images.Get, isv.GetImageRequest(image_id=again.id)).status == image_pb2.Image.READY
    )
    delete(client, again.id)
    assert blob_files(data_dir) == []


def test_a_failed_import_of_stored_content_keeps_the_data_another_image_uses(client, http, data_dir):
    original = unpack_image(client.wait(create(client, http.url("/files/v3.qcow2")).id))
    failed = create(client, http.url("/files/v3.qcow2"), min_disk_size=6 * MiB - 512)
    assert client.wait(failed.id).error.code == INVALID_ARGUMENT
    assert_image_gone(client, image_id_of(failed))
    assert len(blob_files(data_dir)) == 1
    image = client.call(client.images.Get, isv.GetImageRequest(image_id=original.id))
    assert image.status == image_pb2.Image.READY


# --- SIGKILL mid-import, then restart -------------------------------------------------------------


def process_state(pid: int) -> str | None:
    """The /proc state letter, or None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def is_alive(pid: int) -> bool:
    return process_state(pid) not in (None, "Z", "X")


def import_children(parent: int) -> list[int]:
    """The multiprocessing children of `parent` that run an import (not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_sigkill_mid_import_then_restart_fails_the_import_clearly_and_cleans_up(
    transactional_db, http, tmp_path, servers
):
    from images.domain.auth import create_token
    from images.store.models import Image, ImageStatus

    data_dir = tmp_path / "data"
    env = dict(
        IMAGESERVICE_IMPORT_ALLOWED_HOSTS=f"127.0.0.1:{http.port}",
        IMAGESERVICE_IMPORT_ALLOW_HTTP="1",
        IMAGESERVICE_LOG_LEVEL="DEBUG",
    )
    token = create_token(name="crash-editor", role="editor")
    port = free_port()
    first = servers(port, env=env)
    first.wait_serving()
    client = ApiClient(first.address, token)
    operation = create(client, http.url(f"/slow/disk.raw?{SECRET}"))
    image_id = image_id_of(operation)
    client.close()
    wait_until(
        lambda: sum(p.stat().st_size for p in temp_files(data_dir)) >= MiB,
        timeout=20,
        message="a partial download on disk",
    )
    importers = import_children(first.process.pid)
    assert len(importers) == 1, importers

    first.kill()

    wait_until(lambda: not is_alive(importers[0]), timeout=10, message="the import process gone")
    assert Image.objects.get(id=image_id).status == ImageStatus.CREATING
    assert temp_files(data_dir) != []  # the crash left its partial download behind
    second = servers(port, env=env)
    second.wait_serving()

    client = ApiClient(second.address, token)
    try:
        # Recovery before SERVING already ended the import: on SQLite every running operation is a
        # crash's; on PostgreSQL the dead server no longer holds its liveness lock.
        done = client.call(client.operations.Get, osv.GetOperationRequest(operation_id=operation.id))
        assert done.done, done
        assert done.error.code == ABORTED, done.error
        assert "restart" in done.error.message
        assert_image_gone(client, image_id)
    finally:
        client.close()
    assert not Image.objects.filter(status=ImageStatus.CREATING).exists()
    assert temp_files(data_dir) == [] and blob_files(data_dir) == []
    assert "ImageService/Create code=OK" in first.output()  # the server logs (at DEBUG) were captured
    for name, server in (("first", first), ("second", second)):
        assert_no_secret(f"the {name} server's output", server.output())


def test_an_import_process_whose_server_died_while_it_started_exits_without_fetching(http, tmp_path):
    """PR_SET_PDEATHSIG only helps once set: a server killed before that must not leave an orphan."""
    from images.importer.isolated import _CONTEXT, _child

    receiver, sender = _CONTEXT.Pipe(duplex=False)
    cancel = _CONTEXT.Event()
    not_the_parent = os.getppid()  # any live pid other than the child's parent (this process)
    child = _CONTEXT.Process(
        target=_child,
        args=(http.url("/files/v3.qcow2"), http.policy(), str(tmp_path), sender, cancel, "", not_the_parent),
    )
    child.start()
    sender.close()
    child.join(timeout=30)
    assert child.exitcode == 1
    assert http.connections == 0 and not files_under(tmp_path)
    with pytest.raises(EOFError):
        receiver.recv()


# --- the parallelism limit ------------------------------------------------------------------------


def test_at_most_two_imports_download_at_once_and_metadata_calls_still_answer(
    client, http, disk_images, data_dir
):
    operations = [create(client, http.url("/gate/disk.raw"), name=f"parallel-{i}") for i in range(3)]

    def phases():
        return sorted(progress_of(client, op.id).progress.phase for op in operations)

    wait_until(lambda: phases() == ["downloading", "downloading", "queued"], message="two downloading")

    # While two are held, the third stays queued: it gets no slot, so it sends no request.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert len(http.requests_to("/gate/")) == 2 and http.peak == 2
        assert phases() == ["downloading", "downloading", "queued"]
        started = time.monotonic()
        image = client.call(
            client.images.Get, isv.GetImageRequest(image_id=image_id_of(operations[2])), timeout=2
        )
        assert image.status == image_pb2.Image.CREATING
        assert time.monotonic() - started < 0.5

    http.open_gate()
    finished = [client.wait(op.id, timeout=30) for op in operations]
    assert [done.WhichOneof("result") for done in finished] == ["response"] * 3
    assert len(http.requests_to("/gate/")) == 3
    assert http.peak == 2
    assert len(blob_files(data_dir)) == 1
