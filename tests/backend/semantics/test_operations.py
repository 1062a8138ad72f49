"""Operations: a mutation returns at once, one runs per image, cancel rolls back, Update
masks, Delete, ListOperations (a workers=0 server holds operations pending)."""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf import empty_pb2

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.semantics.helpers import (
    CREATING,
    DELETING,
    FOLDER,
    READY,
    cancel,
    created_ready_paused,
    delete,
    get_operation,
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
