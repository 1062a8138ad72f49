"""Every semantic rule of the contract through the real gRPC API (a server with workers=0 holds
operations pending where a test needs to see an operation before it is done)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import grpc
import pytest
from google.protobuf import empty_pb2, field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
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

FOLDER = "folder-semantics"
READY = image_pb2.Image.READY
CREATING = image_pb2.Image.CREATING
DELETING = image_pb2.Image.DELETING
ID = re.compile(r"[a-z0-9]{20}")


def get_operation(client, operation_id: str):
    return client.call(client.operations.Get, osv.GetOperationRequest(operation_id=operation_id))


def cancel(client, operation_id: str):
    return client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=operation_id))


def update(client, image_id: str, paths=None, key=None, **values):
    request = isv.UpdateImageRequest(image_id=image_id, **values)
    if paths is not None:
        request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=paths))
    return client.call(client.images.Update, request, idempotency_key=key)


def delete(client, image_id: str, key=None):
    return client.call(client.images.Delete, isv.DeleteImageRequest(image_id=image_id), idempotency_key=key)


def set_created_at(image_ids, when: dt.datetime) -> None:
    """Gives images one created_at: ties cannot be made through the API, and ordering must break them."""
    from images.store.models import Image

    assert Image.objects.filter(id__in=list(image_ids)).update(created_at=when) == len(set(image_ids))


def created_ready_paused(backend, folder_id=FOLDER, **fields) -> image_pb2.Image:
    """Create on a workers=0 server, then run the pending operation: a READY image."""
    operation = start_create(backend.editor, backend, folder_id, **fields)
    run_pending(backend)
    image = get_image(backend.editor, image_id_of(operation))
    assert image.status == READY
    return image


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


def test_names_are_unique_per_folder_synchronously_without_an_operation(backend):
    client = backend.editor
    taken = create_ready(client, backend, FOLDER, name="taken")
    other = create_ready(client, backend, FOLDER, name="other")
    before = stored_state()
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS) as caught:
        start_create(client, backend, FOLDER, name="taken")
    assert "taken" in caught.message
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        update(client, other.id, paths=["name"], name="taken")
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        update(client, other.id, name="taken")  # no mask: every field, the name too
    assert stored_state() == before
    # The same name in another folder, and an image keeping its own name, are fine.
    assert create_ready(client, backend, "another-folder", name="taken").name == "taken"
    kept = client.wait(
        update(client, taken.id, paths=["name", "description"], name="taken", description="d").id
    )
    assert unpack_image(kept).name == "taken"


def test_empty_names_never_collide(backend):
    client = backend.editor
    images = [create_ready(client, backend, FOLDER) for _ in range(3)]
    named = create_ready(client, backend, FOLDER, name="named")
    client.wait(update(client, named.id, paths=["name"], name="").id)
    assert {image.name for image in list_all(client, FOLDER)} == {""}
    assert len({image.id for image in images}) == 3


def test_a_name_is_taken_while_creating_and_free_after_delete(paused_backend):
    backend = paused_backend
    client = backend.editor
    creating = start_create(client, backend, FOLDER, name="reserved")
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        start_create(client, backend, FOLDER, name="reserved")
    run_pending(backend)
    delete(client, image_id_of(creating))
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):  # DELETING still holds it
        start_create(client, backend, FOLDER, name="reserved")
    run_pending(backend)
    again = start_create(client, backend, FOLDER, name="reserved")
    run_pending(backend)
    assert get_image(client, image_id_of(again)).name == "reserved"


# --- operations that are not done yet ----------------------------------------------------------


def test_create_returns_at_once_and_the_image_is_visible_as_creating(paused_backend):
    backend = paused_backend
    client = backend.editor
    operation = start_create(client, backend, FOLDER, name="new", family="fam", labels={"a": "b"})
    assert not operation.done and operation.WhichOneof("result") is None
    assert operation.description
    metadata = isv.CreateImageMetadata()
    assert operation.metadata.Unpack(metadata)
    image = get_image(client, metadata.image_id)
    assert image.status == CREATING and image.name == "new" and dict(image.labels) == {"a": "b"}
    assert [listed.id for listed in list_all(client, FOLDER)] == [metadata.image_id]
    assert get_operation(client, operation.id) == operation
    run_pending(backend)
    done = get_operation(client, operation.id)
    ready = unpack_image(done)
    assert done.done and ready == get_image(client, metadata.image_id)
    assert ready.status == READY
    assert (ready.name, ready.family, dict(ready.labels)) == ("new", "fam", {"a": "b"})
    assert ready.created_at == image.created_at


def test_mutations_while_an_operation_runs_are_failed_precondition(paused_backend):
    backend = paused_backend
    client = backend.editor
    creating = image_id_of(start_create(client, backend, FOLDER, name="busy"))
    before = stored_state()
    for call in (
        lambda: update(client, creating, paths=["description"], description="x"),
        lambda: delete(client, creating),
    ):
        with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION):
            call()
    assert stored_state() == before
    run_pending(backend)
    update(client, creating, paths=["description"], description="first")
    with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION):
        update(client, creating, paths=["description"], description="second")
    with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION):
        delete(client, creating)
    run_pending(backend)
    delete(client, creating)
    with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION):
        update(client, creating, paths=["description"], description="third")
    with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION):
        delete(client, creating)


def assert_cancelled(operation):
    assert operation.done and operation.WhichOneof("result") == "error"
    assert operation.error.code == 1  # google.rpc.Code.CANCELLED


def test_cancel_of_a_pending_create_removes_the_image(paused_backend):
    backend = paused_backend
    client = backend.editor
    operation = start_create(client, backend, FOLDER, name="doomed")
    image_id = image_id_of(operation)
    cancelled = cancel(client, operation.id)
    assert_cancelled(cancelled)
    assert get_operation(client, operation.id) == cancelled
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        get_image(client, image_id)
    assert run_pending(backend) == 0
    assert get_operation(client, operation.id) == cancelled
    # Its name is free again.
    start_create(client, backend, FOLDER, name="doomed")


def test_cancel_of_a_pending_update_restores_the_old_values(paused_backend):
    backend = paused_backend
    client = backend.editor
    original = created_ready_paused(
        backend, name="before", description="old", labels={"a": "1", "b": "2"}, min_disk_size=8 * GIB
    )
    operation = update(
        client, original.id, name="after", description="new", labels={"c": "3"}, min_disk_size=9 * GIB
    )
    changed = get_image(client, original.id)
    assert (changed.name, changed.description, dict(changed.labels)) == ("after", "new", {"c": "3"})
    assert_cancelled(cancel(client, operation.id))
    assert get_image(client, original.id) == original
    # The image is free for the next mutation.
    assert not update(client, original.id, paths=["description"], description="next").done


def test_cancel_of_a_pending_delete_restores_the_image(paused_backend):
    backend = paused_backend
    client = backend.editor
    original = created_ready_paused(backend, name="keep")
    operation = delete(client, original.id)
    assert get_image(client, original.id).status == DELETING
    assert_cancelled(cancel(client, operation.id))
    assert get_image(client, original.id) == original
    assert run_pending(backend) == 0
    assert get_image(client, original.id) == original


def test_cancel_of_a_finished_operation_returns_it_unchanged(backend):
    client = backend.editor
    image = create_ready(client, backend, FOLDER, name="fin")
    finished = client.wait(update(client, image.id, paths=["description"], description="d").id)
    assert cancel(client, finished.id) == finished
    assert get_operation(client, finished.id) == finished
    assert get_image(client, image.id).description == "d"
    deleted = client.wait(delete(client, image.id).id)
    assert cancel(client, deleted.id) == deleted


def test_cancel_of_a_cancelled_operation_returns_it_unchanged(paused_backend):
    backend = paused_backend
    client = backend.editor
    operation = start_create(client, backend, FOLDER, name="twice")
    first = cancel(client, operation.id)
    assert cancel(client, operation.id) == first


# --- Update and Delete -------------------------------------------------------------------------


def test_update_without_a_mask_overwrites_every_updatable_field(backend):
    client = backend.editor
    image = create_ready(
        client, backend, FOLDER, name="full", description="old", labels={"a": "1"}, family="fam",
        min_disk_size=8 * GIB,
    )  # fmt: skip
    done = client.wait(update(client, image.id, description="only this").id)
    updated = unpack_image(done)
    assert (updated.name, updated.description, dict(updated.labels)) == ("", "only this", {})
    assert updated.min_disk_size == 8 * GIB  # 0 means "not given"
    assert updated.family == "fam"
    done = client.wait(update(client, image.id, name="renamed", min_disk_size=9 * GIB, labels={"b": "2"}).id)
    updated = unpack_image(done)
    assert (updated.name, updated.description, dict(updated.labels)) == ("renamed", "", {"b": "2"})
    assert updated.min_disk_size == 9 * GIB
    assert get_image(client, image.id) == updated


def test_update_with_a_mask_changes_only_its_paths_and_replaces_labels_as_a_set(backend):
    client = backend.editor
    image = create_ready(
        client, backend, FOLDER, name="masked", description="old", labels={"a": "1", "b": "2"}
    )
    done = client.wait(
        update(
            client, image.id, paths=["labels"], name="ignored", description="ignored", labels={"c": "3"}
        ).id
    )
    updated = unpack_image(done)
    assert (updated.name, updated.description, dict(updated.labels)) == ("masked", "old", {"c": "3"})
    cleared = unpack_image(client.wait(update(client, image.id, paths=["labels"]).id))
    assert dict(cleared.labels) == {}
    both = unpack_image(
        client.wait(update(client, image.id, paths=["description", "name"], description="new", name="n2").id)
    )
    assert (both.name, both.description) == ("n2", "new")
    metadata = isv.UpdateImageMetadata()
    assert done.metadata.Unpack(metadata) and metadata.image_id == image.id


def test_delete_shows_deleting_then_not_found_and_every_operation_stays_readable(paused_backend):
    backend = paused_backend
    client = backend.editor
    created = start_create(client, backend, FOLDER, name="gone")
    image_id = image_id_of(created)
    run_pending(backend)
    updated = update(client, image_id, paths=["description"], description="d")
    run_pending(backend)
    deleting = delete(client, image_id)
    assert not deleting.done
    assert get_image(client, image_id).status == DELETING
    assert image_id in [image.id for image in list_all(client, FOLDER, filter='status = "DELETING"')]
    run_pending(backend)
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        get_image(client, image_id)
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(client.images.ListOperations, isv.ListImageOperationsRequest(image_id=image_id))
    for operation in (created, updated, deleting):
        read = get_operation(backend.viewer, operation.id)
        assert read.done and read.WhichOneof("result") == "response"
        assert image_id_of(read) == image_id
    done = get_operation(client, deleting.id)
    assert done.response.Is(empty_pb2.Empty.DESCRIPTOR)
    metadata = isv.DeleteImageMetadata()
    assert done.metadata.Unpack(metadata) and metadata.image_id == image_id


# --- ListOperations -----------------------------------------------------------------------------


def test_list_operations_is_newest_first_and_paginated(backend):
    from images.store.models import Operation

    client = backend.editor
    image = create_ready(client, backend, FOLDER, name="ops")
    expected = [
        client.wait(update(client, image.id, paths=["description"], description=f"d{index}").id).id
        for index in range(6)
    ]
    created_id = Operation.objects.get(image_id=image.id, kind="create").id
    expected = [*reversed(expected), created_id]

    def pages(page_size):
        seen, token = [], ""
        while True:
            request = isv.ListImageOperationsRequest(image_id=image.id, page_size=page_size, page_token=token)
            page = backend.viewer.call(client.images.ListOperations, request)
            assert len(page.operations) <= page_size
            seen += [operation.id for operation in page.operations]
            assert len(seen) <= len(expected), "the pages repeat"
            token = page.next_page_token
            if not token:
                return seen

    assert pages(2) == expected
    assert pages(3) == expected
    assert pages(1000) == expected
    # Equal created_at: the greater id first.
    tied = Operation.objects.filter(id__in=expected[:4])
    tied.update(created_at=dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    assert pages(1)[:4] == sorted(expected[:4], reverse=True)


# --- List filter and order_by -------------------------------------------------------------------


@pytest.fixture
def catalog(paused_backend):
    """Images in every status a client can see, with names, families and labels to filter on."""
    backend = paused_backend
    client = backend.editor
    specs = [
        ("alpha", "web", {"env": "prod", "team": "a"}),
        ("beta", "web", {"env": "test"}),
        ("gamma", "dbs", {"env": "prod"}),
        ("delta", "", {"team": "b"}),
        ("", "dbs", {}),
        ("", "", {"env": "dev", "k.x/y@z": "v-1"}),
    ]
    for name, family, labels in specs:
        start_create(client, backend, FOLDER, name=name, family=family, labels=labels)
    run_pending(backend)
    images = {image.id: image for image in list_all(client, FOLDER)}
    by_name = {image.name: image for image in images.values() if image.name}
    delete(client, by_name["delta"].id)  # DELETING
    creating = start_create(client, backend, FOLDER, name="epsilon", family="web", labels={"env": "prod"})
    start_create(client, backend, "other-folder", name="alpha", family="web", labels={"env": "prod"})
    images = {image.id: image for image in list_all(client, FOLDER)}
    assert images[image_id_of(creating)].status == CREATING
    return images


def expected_ids(images, predicate) -> set[str]:
    return {image_id for image_id, image in images.items() if predicate(image)}


FILTER_CASES = [
    ('name = "alpha"', lambda i: i.name == "alpha"),
    ("name = 'alpha'", lambda i: i.name == "alpha"),
    ('name != "alpha"', lambda i: i.name != "alpha"),
    ('name = ""', lambda i: i.name == ""),
    ('name IN ("alpha", "gamma", "nope")', lambda i: i.name in ("alpha", "gamma")),
    ('name in ("alpha")', lambda i: i.name == "alpha"),
    ('name NOT IN ("alpha", "beta")', lambda i: i.name not in ("alpha", "beta")),
    ('name not in ("")', lambda i: i.name != ""),
    ('family = "web"', lambda i: i.family == "web"),
    ('family != "web"', lambda i: i.family != "web"),
    ('family IN ("web", "dbs")', lambda i: i.family in ("web", "dbs")),
    ('family NOT IN ("web", "dbs")', lambda i: i.family not in ("web", "dbs")),
    ('status = "READY"', lambda i: i.status == READY),
    ('status = "CREATING"', lambda i: i.status == CREATING),
    ('status = "DELETING"', lambda i: i.status == DELETING),
    ('status = "ERROR"', lambda i: False),
    ('status != "READY"', lambda i: i.status != READY),
    ('status IN ("CREATING", "DELETING")', lambda i: i.status in (CREATING, DELETING)),
    ('status NOT IN ("CREATING", "DELETING")', lambda i: i.status not in (CREATING, DELETING)),
    ('labels.env = "prod"', lambda i: i.labels.get("env") == "prod"),
    ('labels.env != "prod"', lambda i: i.labels.get("env") != "prod"),
    ('labels.env IN ("prod", "dev")', lambda i: i.labels.get("env") in ("prod", "dev")),
    ('labels.env NOT IN ("prod", "dev")', lambda i: i.labels.get("env") not in ("prod", "dev")),
    ('labels.team = ""', lambda i: False),
    ('labels.k.x/y@z = "v-1"', lambda i: i.labels.get("k.x/y@z") == "v-1"),
    ('labels.nothing != "x"', lambda i: True),
    (
        'family = "web" AND labels.env = "prod" and status = "READY"',
        lambda i: i.family == "web" and i.labels.get("env") == "prod" and i.status == READY,
    ),
    ('name != "alpha" AND name != "beta"', lambda i: i.name not in ("alpha", "beta")),
    ("name = \"a\\\"b\" AND name = 'x\\'y\\\\'", lambda i: False),
    ('  name="alpha"  ', lambda i: i.name == "alpha"),
]


def test_list_filter_supports_every_field_and_operator(catalog, paused_backend, subtests):
    client = paused_backend.viewer
    for text, predicate in FILTER_CASES:
        with subtests.test(msg=text):
            listed = list_all(client, FOLDER, filter=text, page_size=2)
            assert len(listed) == len({image.id for image in listed})
            assert {image.id for image in listed} == expected_ids(catalog, predicate)
    ids = sorted(catalog)
    listed = list_all(client, FOLDER, filter=f'id = "{ids[0]}"')
    assert [image.id for image in listed] == [ids[0]]
    listed = list_all(client, FOLDER, filter=f'id IN ("{ids[1]}", "{ids[2]}")')
    assert [image.id for image in listed] == ids[1:3]
    listed = list_all(client, FOLDER, filter=f'id NOT IN ("{ids[1]}", "{ids[2]}") AND id != "{ids[0]}"')
    assert [image.id for image in listed] == ids[3:]


ORDER_KEYS = {
    "id": lambda image: (image.id,),
    "name": lambda image: (image.name, image.id),
    "createdAt": lambda image: (image.created_at.ToDatetime(), image.id),
}


def test_list_order_by_every_field_both_ways_with_stable_pages(catalog, paused_backend, subtests):
    client = paused_backend.viewer
    ids = sorted(catalog)
    # Ties on created_at as on the empty names: the order must break them by id.
    set_created_at(ids[:3], dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
    images = {image.id: image for image in list_all(client, FOLDER)}
    for field, key in ORDER_KEYS.items():
        for direction in ("", " asc", " desc", " DESC"):
            order_by = field + direction
            expected = [
                image.id for image in sorted(images.values(), key=key, reverse="desc" in order_by.lower())
            ]
            for page_size in (1, 2, 3, 100):
                with subtests.test(msg=f"{order_by} / {page_size}"):
                    listed = list_all(client, FOLDER, order_by=order_by, page_size=page_size)
                    assert [image.id for image in listed] == expected
    default = list_all(client, FOLDER, page_size=2)
    assert [image.id for image in default] == ids
    filtered = list_all(client, FOLDER, filter='name != "beta"', order_by="createdAt desc", page_size=2)
    expected = sorted(
        (i for i in images.values() if i.name != "beta"), key=ORDER_KEYS["createdAt"], reverse=True
    )
    assert [image.id for image in filtered] == [image.id for image in expected]


# --- idempotency ---------------------------------------------------------------------------------


def test_a_repeated_idempotency_key_returns_the_earlier_operation_whatever_the_body(backend):
    client = backend.editor
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    key = str(uuid.uuid4())
    request = isv.CreateImageRequest(folder_id=FOLDER, name="once", disk_id=disk)
    first = client.call(client.images.Create, request, idempotency_key=key)
    done = client.wait(first.id)
    before = stored_state()
    # The same body (whose name is now taken), another body, an invalid body, another RPC.
    repeats = [
        lambda: client.call(client.images.Create, request, idempotency_key=key),
        lambda: client.call(
            client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name="other", disk_id=disk),
            idempotency_key=key,
        ),
        lambda: client.call(client.images.Create, isv.CreateImageRequest(name="Bad\n"), idempotency_key=key),
        lambda: client.call(
            client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id="missing"), idempotency_key=key
        ),
        lambda: update(client, "nope", paths=["size"], key=key),
        lambda: delete(client, "", key=key),
    ]  # fmt: skip
    for repeat in repeats:
        assert repeat() == done  # the current state: done now
    assert stored_state() == before
    assert [image.name for image in list_all(client, FOLDER)] == ["once"]


def test_idempotent_update_and_delete(backend):
    client = backend.editor
    image = create_ready(client, backend, FOLDER, name="idem")
    key = str(uuid.uuid4())
    first = update(client, image.id, paths=["description"], description="one", key=key)
    again = update(client, image.id, paths=["description"], description="two", key=key)
    assert again.id == first.id
    client.wait(first.id)
    assert get_image(client, image.id).description == "one"
    delete_key = str(uuid.uuid4())
    deleting = delete(client, image.id, key=delete_key)
    client.wait(deleting.id)
    # The image is gone; the repeated Delete still answers with the finished operation.
    assert delete(client, image.id, key=delete_key) == get_operation(client, deleting.id)


def test_idempotency_keys_are_kept_at_least_24_hours(backend):
    from django.utils import timezone

    from images.domain import operations
    from images.store.models import IdempotencyKey

    client = backend.editor
    key = str(uuid.uuid4())
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    request = isv.CreateImageRequest(folder_id=FOLDER, name="kept", disk_id=disk)
    first = client.wait(client.call(client.images.Create, request, idempotency_key=key).id)
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=24, minutes=5))
    operations.purge_expired_keys()  # what the worker runs hourly
    assert client.call(client.images.Create, request, idempotency_key=key) == first
    assert [image.name for image in list_all(client, FOLDER)] == ["kept"]


def test_callers_do_not_share_idempotency_keys(backend):
    alice = backend.client(backend.create_token("alice", "editor"))
    bob = backend.client(backend.create_token("bob", "editor"))
    key = str(uuid.uuid4())
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    first = alice.call(
        alice.images.Create,
        isv.CreateImageRequest(folder_id=FOLDER, name="a", disk_id=disk),
        idempotency_key=key,
    )
    second = bob.call(
        bob.images.Create,
        isv.CreateImageRequest(folder_id=FOLDER, name="b", disk_id=disk),
        idempotency_key=key,
    )
    assert first.id != second.id
    assert (alice.wait(first.id).created_by, bob.wait(second.id).created_by) == ("alice", "bob")
    assert sorted(image.name for image in list_all(alice, FOLDER)) == ["a", "b"]


def test_a_rejected_call_does_not_use_up_its_key(backend):
    client = backend.editor
    key = str(uuid.uuid4())
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT):
        client.call(
            client.images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, name="Bad", disk_id=disk),
            idempotency_key=key,
        )
    create_ready(client, backend, FOLDER, name="taken", disk_id=disk)
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        client.call(
            client.images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, name="taken", disk_id=disk),
            idempotency_key=key,
        )
    operation = client.call(
        client.images.Create,
        isv.CreateImageRequest(folder_id=FOLDER, name="good", disk_id=disk),
        idempotency_key=key,
    )
    assert unpack_image(client.wait(operation.id)).name == "good"


# --- operability ---------------------------------------------------------------------------------


def test_health_is_serving_without_auth(backend):
    channel = grpc.insecure_channel(backend.address)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in (
            "",
            "yandex.cloud.compute.v1.ImageService",
            "yandex.cloud.operation.OperationService",
        ):
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        channel.close()


def test_reflection_lists_the_services(backend):
    channel = grpc.insecure_channel(backend.address)
    try:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="yandex.cloud.compute.v1.ImageService"
            ),
        ]
        responses = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
    finally:
        channel.close()
    names = {service.name for service in responses[0].list_services_response.service}
    assert {
        "yandex.cloud.compute.v1.ImageService",
        "yandex.cloud.operation.OperationService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names
    assert responses[1].file_descriptor_response.file_descriptor_proto


def initial_metadata_of(call_or_error) -> dict:
    return dict(call_or_error.initial_metadata())


def test_x_request_id_is_the_clients_or_a_new_uuid_on_every_answer(backend):
    client = backend.viewer
    request = isv.ListImagesRequest(folder_id=FOLDER)
    _, call = client.images.List.with_call(request, metadata=client.metadata(x_request_id="req-1"))
    assert initial_metadata_of(call)["x-request-id"] == "req-1"
    _, call = client.images.List.with_call(request, metadata=client.metadata(x_client_request_id="req-2"))
    assert initial_metadata_of(call)["x-request-id"] == "req-2"
    _, call = client.images.List.with_call(request, metadata=client.metadata())
    generated = initial_metadata_of(call)["x-request-id"]
    assert str(uuid.UUID(generated)) == generated
    _, call = client.images.List.with_call(request, metadata=client.metadata())
    assert initial_metadata_of(call)["x-request-id"] != generated
    with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
        client.images.Get(
            isv.GetImageRequest(image_id="nope"), metadata=client.metadata(x_request_id="req-3")
        )
    assert initial_metadata_of(caught.error)["x-request-id"] == "req-3"
    anonymous = backend.client(None)
    with raises_rpc(grpc.StatusCode.UNAUTHENTICATED) as caught:
        anonymous.images.Get(isv.GetImageRequest(image_id="nope"), metadata=[("x-request-id", "req-4")])
    assert initial_metadata_of(caught.error)["x-request-id"] == "req-4"


def test_x_request_id_is_logged_with_the_call(backend, caplog):
    client = backend.viewer
    marker = f"trace-{uuid.uuid4().hex}"
    with caplog.at_level("INFO"):
        client.images.List(
            isv.ListImagesRequest(folder_id=FOLDER), metadata=client.metadata(x_request_id=marker)
        )
    lines = [record.getMessage() for record in caplog.records if marker in record.getMessage()]
    assert lines and "ImageService/List" in lines[0] and "OK" in lines[0]


def test_created_by_is_the_caller(backend):
    carol = backend.client(backend.create_token("carol", "editor"))
    dave = backend.client(backend.create_token("dave", "editor"))
    created = carol.wait(start_create(carol, backend, FOLDER, name="owned").id)
    image_id = image_id_of(created)
    operations = [
        created,
        dave.wait(update(dave, image_id, paths=["description"], description="x").id),
        carol.wait(delete(carol, image_id).id),
    ]
    assert [operation.created_by for operation in operations] == ["carol", "dave", "carol"]
    assert [get_operation(dave, operation.id).created_by for operation in operations] == [
        "carol",
        "dave",
        "carol",
    ]
