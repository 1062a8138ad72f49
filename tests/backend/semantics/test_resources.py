"""Ids, timestamps, GetLatestByFamily, what an image inherits from its source, missing
resources: the contract's semantics through the real gRPC API."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.semantics.helpers import (
    CREATING,
    DELETING,
    FOLDER,
    ID,
    created_ready_paused,
    delete,
    get_operation,
    set_created_at,
    update,
)
from tests.backend.support import (
    GIB,
    create_ready,
    get_image,
    image_id_of,
    list_all,
    raises_rpc,
    run_pending,
    start_create,
    stored_state,
    unpack_image,
)

# --- ids and timestamps ------------------------------------------------------------------------


def test_ids_are_20_lowercase_alphanumerics_with_a_prefix_per_kind(backend):
    client = backend.editor
    images, operations = [], []
    for index in range(4):
        operation = start_create(client, backend, FOLDER, name=f"id-{index}")
        done = client.wait(operation.id)
        operations.append(done)
        images.append(unpack_image(done))
    operations.append(client.wait(delete(client, images[0].id).id))
    image_ids = [image.id for image in images]
    operation_ids = [operation.id for operation in operations]
    for value in image_ids + operation_ids:
        assert ID.fullmatch(value), value
    assert len({value[:3] for value in image_ids}) == 1
    assert len({value[:3] for value in operation_ids}) == 1
    assert image_ids[0][:3] != operation_ids[0][:3]
    assert len(set(image_ids)) == 4 and len(set(operation_ids)) == 5


def test_timestamps_have_microsecond_precision_and_agree_everywhere(backend):
    client = backend.editor
    images, operations = [], []
    for index in range(5):
        done = client.wait(start_create(client, backend, FOLDER, name=f"ts-{index}").id)
        operations.append(done)
        images.append(unpack_image(done))
    listed = {image.id: image for image in list_all(client, FOLDER)}
    for image, operation in zip(images, operations, strict=True):
        assert image.created_at.nanos % 1000 == 0
        assert get_image(client, image.id).created_at == image.created_at
        assert listed[image.id].created_at == image.created_at
        assert operation.created_at.nanos % 1000 == 0 and operation.modified_at.nanos % 1000 == 0
        assert operation.modified_at.ToDatetime() >= operation.created_at.ToDatetime()
        assert abs(operation.created_at.ToDatetime() - image.created_at.ToDatetime()) < dt.timedelta(
            seconds=5
        )
    # Microseconds, not milliseconds: five whole-millisecond stamps in a row would be a 1e-15 chance.
    assert any(image.created_at.nanos % 1_000_000 for image in images)


# --- newest: greatest created_at, ties broken by the greater id -----------------------------------


def test_get_latest_by_family_takes_newest_then_greatest_id(backend):
    client = backend.editor
    first = create_ready(client, backend, FOLDER, name="v1", family="web")
    second = create_ready(client, backend, FOLDER, name="v2", family="web")
    create_ready(client, backend, "other-folder", name="v3", family="web")
    create_ready(client, backend, FOLDER, name="v4", family="dbs")

    def latest():
        request = isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family="web")
        return client.call(client.images.GetLatestByFamily, request).id

    assert latest() == second.id
    set_created_at([first.id], dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert latest() == first.id
    set_created_at([first.id, second.id], dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    assert latest() == max(first.id, second.id)


def test_get_latest_by_family_ignores_images_that_are_not_ready(paused_backend):
    from images.store.models import Image, ImageStatus

    backend = paused_backend
    client = backend.editor
    ready = created_ready_paused(backend, name="ready", family="fam")
    errored = created_ready_paused(backend, name="errored", family="fam")
    Image.objects.filter(id=errored.id).update(status=ImageStatus.ERROR)
    creating = start_create(client, backend, FOLDER, name="creating", family="fam")
    request = isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family="fam")
    assert get_image(client, image_id_of(creating)).status == CREATING
    assert client.call(client.images.GetLatestByFamily, request).id == ready.id
    delete(client, ready.id)
    assert get_image(client, ready.id).status == DELETING
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(client.images.GetLatestByFamily, request)


# --- inheritance from the source --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["disk", "snapshot"])
def test_image_from_disk_or_snapshot_inherits_product_ids_os_and_size(backend, kind):
    client = backend.editor
    source = backend.register_source(kind, FOLDER, 3 * GIB, product_ids=["p-a", "p-b"], os="windows")
    image = create_ready(client, backend, FOLDER, **{f"{kind}_id": source})
    assert list(image.product_ids) == ["p-a", "p-b"]
    assert image.os.type == image_pb2.Os.WINDOWS
    assert image.min_disk_size == 3 * GIB
    given = create_ready(
        client, backend, FOLDER, **{f"{kind}_id": source},
        product_ids=["own"], os=image_pb2.Os(type=image_pb2.Os.LINUX), min_disk_size=4 * GIB,
    )  # fmt: skip
    assert list(given.product_ids) == ["own"]
    assert given.os.type == image_pb2.Os.LINUX
    assert given.min_disk_size == 4 * GIB
    exact = create_ready(client, backend, FOLDER, **{f"{kind}_id": source}, min_disk_size=3 * GIB)
    assert exact.min_disk_size == 3 * GIB
    before = stored_state()
    with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT) as caught:
        start_create(client, backend, FOLDER, **{f"{kind}_id": source}, min_disk_size=3 * GIB - 1)
    assert [field for field, _ in caught.violations()] == ["min_disk_size"]
    assert caught.message.startswith("Request validation error: min_disk_size: ")
    assert stored_state() == before


def test_image_from_image_inherits_its_min_disk_size_product_ids_and_os(backend):
    client = backend.editor
    disk = backend.register_source("disk", FOLDER, 1 * GIB, product_ids=["p-1"], os="linux")
    origin = create_ready(client, backend, FOLDER, disk_id=disk, min_disk_size=5 * GIB)
    copy = create_ready(client, backend, FOLDER, image_id=origin.id)
    assert copy.min_disk_size == 5 * GIB
    assert list(copy.product_ids) == ["p-1"]
    assert copy.os.type == image_pb2.Os.LINUX
    assert create_ready(client, backend, FOLDER, image_id=origin.id, min_disk_size=6 * GIB).min_disk_size == (
        6 * GIB
    )
    before = stored_state()
    with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT) as caught:
        start_create(client, backend, FOLDER, image_id=origin.id, min_disk_size=5 * GIB - 1)
    assert [field for field, _ in caught.violations()] == ["min_disk_size"]
    assert stored_state() == before


def test_update_min_disk_size_below_the_image_size_is_invalid(backend):
    client = backend.editor
    image = create_ready(client, backend, FOLDER, disk_size=2 * GIB)
    before = stored_state()
    with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT) as caught:
        update(client, image.id, paths=["min_disk_size"], min_disk_size=2 * GIB - 1)
    assert [field for field, _ in caught.violations()] == ["min_disk_size"]
    assert stored_state() == before
    assert unpack_image(client.wait(update(client, image.id, ["min_disk_size"], min_disk_size=2 * GIB).id))


# --- missing things ---------------------------------------------------------------------------


def test_missing_source_is_failed_precondition_and_creates_nothing(backend):
    client = backend.editor
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    snapshot = backend.register_source("snapshot", FOLDER, 1 * GIB)
    before = stored_state()
    missing = [
        {"disk_id": "dsk" + "0" * 17},
        {"snapshot_id": "snp" + "0" * 17},
        {"image_id": "fd8" + "0" * 17},
        {"snapshot_id": disk},  # a disk is not a snapshot
        {"disk_id": snapshot},
    ]
    for source in missing:
        with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION) as caught:
            client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name="x", **source))
        assert next(iter(source.values())) in caught.message
    assert stored_state() == before


def test_source_image_that_is_not_ready_is_failed_precondition(paused_backend):
    backend = paused_backend
    client = backend.editor
    creating = start_create(client, backend, FOLDER, name="creating")
    before = stored_state()
    with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION):
        client.call(
            client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, image_id=image_id_of(creating))
        )
    assert stored_state() == before


def test_create_that_fails_in_the_worker_is_rolled_back(paused_backend):
    backend = paused_backend
    client = backend.editor
    origin = created_ready_paused(backend, name="origin")
    copy = client.call(
        client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name="copy", image_id=origin.id)
    )
    assert get_image(client, image_id_of(copy)).status == CREATING
    delete(client, origin.id)  # queued behind the copy's Create: the source is DELETING when it runs
    run_pending(backend)
    done = get_operation(client, copy.id)
    assert done.done and done.WhichOneof("result") == "error"
    assert done.error.code == 9  # FAILED_PRECONDITION
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        get_image(client, image_id_of(copy))
    assert list_all(client, FOLDER) == []


def test_missing_image_is_not_found_with_the_contract_message(backend):
    client = backend.editor
    image_id = "fd8" + "x" * 17
    calls = [
        lambda: get_image(client, image_id),
        lambda: update(client, image_id, paths=["description"], description="x"),
        lambda: update(client, image_id),
        lambda: delete(client, image_id),
        lambda: client.call(client.images.ListOperations, isv.ListImageOperationsRequest(image_id=image_id)),
    ]
    before = stored_state()
    for call in calls:
        with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
            call()
        assert caught.message == f'Image "{image_id}" not found'
    assert stored_state() == before
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        get_operation(client, "opr" + "x" * 17)


# --- names ------------------------------------------------------------------------------------
