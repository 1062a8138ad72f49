"""The demo object store's images are real: qemu-img reads them, and the backend imports every one of
them to READY, except the missing one, which fails with a clear message; the slow one shows its progress
and can be cancelled."""

from __future__ import annotations

import json
import shutil
import subprocess

import grpc
import pytest

from images.api.gen.imageservice.v1 import extension_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from images.domain import demo_store
from images.importer.errors import DOWNLOAD_FAILED
from tests.backend.support import image_id_of, raises_rpc, wait_until

FOLDER = "demo-folder"
CANCELLED, UNAVAILABLE = 1, 14
QEMU_FORMAT = {".qcow2": "qcow2", ".vmdk": "vmdk", ".img": "raw"}
needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img is not installed")


@pytest.fixture
def store(tmp_path):
    served = demo_store.start(tmp_path / "store")
    yield served
    served.stop()


@pytest.fixture
def demo_backend(settings, store, backend):
    """The backend, allowed to fetch from the demo store over http as rundemo allows it."""
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [store.authority]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    settings.IMAGESERVICE_IMPORT_CONCURRENCY = 8
    return backend


def _qemu_info(path) -> dict:
    output = subprocess.run(
        ["qemu-img", "info", "--output=json", "-f", QEMU_FORMAT[path.suffix], str(path)],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    return json.loads(output)


def test_the_banner_lists_a_vmdk_a_slow_and_a_missing_image(store):
    uris = dict((uri.rsplit("/", 1)[1], shown) for shown, uri in store.uris())
    assert {".qcow2", ".vmdk", ".img"} <= {"." + name.rsplit(".", 1)[1] for name in uris}
    assert "slow" in uris[demo_store.SLOW_NAME] and "missing" in uris[demo_store.MISSING_NAME]
    assert "VMDK" in uris[demo_store.VMDK_NAME]


@needs_qemu_img
def test_qemu_img_reads_every_demo_image_and_finds_no_errors(tmp_path):
    for name, path in demo_store.write_images(tmp_path).items():
        info = _qemu_info(path)
        assert info["format"] == QEMU_FORMAT[path.suffix], name
        if info["format"] != "raw":
            subprocess.run(
                ["qemu-img", "check", "-f", info["format"], str(path)],
                check=True,
                capture_output=True,
                timeout=30,
            )
    assert _qemu_info(tmp_path / demo_store.VMDK_NAME)["format-specific"]["data"]["create-type"] == (
        "monolithicSparse"
    )


@needs_qemu_img
def test_the_vmdk_holds_its_data_at_the_start_of_the_disk(tmp_path):
    data = b"\x01demo\x02" * 20_000  # not a whole number of grains
    path = tmp_path / "disk.vmdk"
    path.write_bytes(demo_store.vmdk(64 * demo_store.MiB, data, name=path.name))
    expected = tmp_path / "expected.raw"
    expected.write_bytes(data.ljust(64 * demo_store.MiB, b"\0"))
    assert _qemu_info(path)["virtual-size"] == 64 * demo_store.MiB
    # compare exits 0 only when every sector of the two disks reads the same
    subprocess.run(
        ["qemu-img", "compare", "-f", "vmdk", "-F", "raw", str(path), str(expected)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip


def _create(client, uri: str, name: str):
    return client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name=name, uri=uri))


def _bytes_done(client, operation_id: str) -> int:
    response = client.call(
        client.extension.BatchGetOperations,
        extension_pb2.BatchGetOperationsRequest(operation_ids=[operation_id]),
    )
    (found,) = response.operations
    assert not found.operation.done, found.operation
    return found.progress.bytes_done


def test_every_demo_uri_imports_to_ready_except_the_missing_one(demo_backend, store, capfd):
    client = demo_backend.editor
    started = {
        uri.rsplit("/", 1)[1]: _create(client, uri, f"demo-{index}")
        for index, (_, uri) in enumerate(store.uris())
    }
    # While the slow one runs, a second import of it shows its progress growing, then is cancelled.
    watched = _create(client, f"http://{store.authority}/{demo_store.SLOW_NAME}", "watched")
    first = wait_until(lambda: _bytes_done(client, watched.id), timeout=30, message="the first bytes")
    wait_until(lambda: _bytes_done(client, watched.id) > first, timeout=30, message="more bytes")
    client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=watched.id))
    cancelled = client.wait(watched.id, timeout=10)
    assert cancelled.error.code == CANCELLED, cancelled
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(client.images.Get, isv.GetImageRequest(image_id=image_id_of(watched)))

    missing = client.wait(started.pop(demo_store.MISSING_NAME).id, timeout=30)
    # The same words for every download failure (a caller cannot probe the network through them).
    assert missing.WhichOneof("result") == "error"
    assert (missing.error.code, missing.error.message) == (UNAVAILABLE, DOWNLOAD_FAILED)
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(client.images.Get, isv.GetImageRequest(image_id=image_id_of(missing)))
    for name, operation in started.items():
        done = client.wait(operation.id, timeout=90)
        assert done.WhichOneof("result") == "response", (name, done.error)
        image = client.call(client.images.Get, isv.GetImageRequest(image_id=image_id_of(operation)))
        assert image.status == image_pb2.Image.READY and image.storage_size > 0, name
    virtual = client.call(
        client.images.Get, isv.GetImageRequest(image_id=image_id_of(started[demo_store.VMDK_NAME]))
    )
    assert virtual.min_disk_size >= 256 * demo_store.MiB
    # The store shares the demo's console with the banner: the cancelled download, hung up long
    # before the slow import finished, left no traceback there.
    assert "Traceback" not in capfd.readouterr().err
