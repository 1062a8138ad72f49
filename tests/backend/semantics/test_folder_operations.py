"""ListFolderOperations: every operation on a folder's images, whoever started it, newest first,
paginated, filterable by status and by who started it, with BatchGetOperations' progress fields
(a workers=0 server holds operations pending)."""

from __future__ import annotations

import grpc
import pytest

from images.api.gen.imageservice.v1 import extension_pb2 as ext
from tests.backend.semantics.helpers import cancel, created_ready_paused, delete, update
from tests.backend.support import assert_invalid, image_id_of, raises_rpc, run_pending, start_create

FOLDER = "folder-ops"
Status = ext.ListFolderOperationsRequest.Status


def list_ops(client, folder_id=FOLDER, **fields):
    return client.call(
        client.extension.ListFolderOperations, ext.ListFolderOperationsRequest(folder_id=folder_id, **fields)
    )


def all_ids(client, **fields) -> list[str]:
    ids, token = [], ""
    while True:
        page = list_ops(client, page_token=token, **fields)
        ids += [entry.operation.id for entry in page.operations]
        token = page.next_page_token
        if not token:
            return ids


@pytest.fixture
def history(paused_backend):
    """In FOLDER: a done create and a done update by the editor, a create by a second editor that
    was cancelled (failed), a pending delete, and a deleted image's operations; one in another folder."""
    backend = paused_backend
    alice = backend.editor
    bob = backend.client(backend.create_token("bob", "editor"))
    image = created_ready_paused(backend, FOLDER, name="kept")
    updated = update(alice, image.id, description="v2")
    run_pending(backend)
    cancelled = start_create(bob, backend, FOLDER, name="abandoned")
    cancel(bob, cancelled.id)
    gone = created_ready_paused(backend, FOLDER, name="gone")
    gone_delete = delete(alice, gone.id)
    run_pending(backend)
    created_ready_paused(backend, "folder-elsewhere", name="elsewhere")
    pending = delete(alice, image.id)
    from images.store.models import Operation

    create_kept = Operation.objects.get(image_id=image.id, kind="create").id
    create_gone = Operation.objects.get(image_id=gone.id, kind="create").id
    return {
        "backend": backend,
        "newest_first": [pending.id, gone_delete.id, create_gone, cancelled.id, updated.id, create_kept],
        "pending": pending.id,
        "cancelled": cancelled.id,
        "bob": "bob",
        "gone": (gone.id, [gone_delete.id, create_gone]),
    }


def test_lists_every_operation_of_the_folder_newest_first_for_a_viewer(history):
    client = history["backend"].viewer
    assert all_ids(client) == history["newest_first"]
    # Pages of two give the same operations in the same order.
    assert all_ids(client, page_size=2) == history["newest_first"]
    first = list_ops(client, page_size=2)
    assert len(first.operations) == 2 and first.next_page_token


def test_filters_by_status(history):
    client = history["backend"].viewer
    newest_first = history["newest_first"]
    assert all_ids(client, status=Status.RUNNING) == [history["pending"]]
    assert all_ids(client, status=Status.FAILED) == [history["cancelled"]]
    done = [op for op in newest_first if op not in (history["pending"], history["cancelled"])]
    assert all_ids(client, status=Status.DONE) == done


def test_filters_by_who_started_them(history):
    client = history["backend"].viewer
    assert all_ids(client, created_by="bob") == [history["cancelled"]]
    assert all_ids(client, created_by="bob", status=Status.DONE) == []
    assert all_ids(client, created_by="nobody") == []


def test_filters_by_image_even_once_the_image_is_gone(history):
    client = history["backend"].viewer
    gone_id, gone_ops = history["gone"]
    assert all_ids(client, image_id=gone_id) == gone_ops
    assert all_ids(client, image_id=gone_id, status=Status.DONE, page_size=1) == gone_ops
    assert all_ids(client, image_id="nosuchimage") == []
    # An image in another folder is not found through this one.
    assert all_ids(client, folder_id="folder-elsewhere", image_id=gone_id) == []


def test_operations_carry_the_same_progress_as_batch_get(history):
    from images.store.models import Operation

    backend = history["backend"]
    Operation.objects.filter(id=history["pending"]).update(
        progress_phase="downloading", progress_done=512, progress_total=2048
    )
    client = backend.viewer
    listed = {entry.operation.id: entry for entry in list_ops(client).operations}
    batch = client.call(
        client.extension.BatchGetOperations, ext.BatchGetOperationsRequest(operation_ids=list(listed))
    )
    assert {entry.operation.id: entry for entry in batch.operations} == listed
    progress = listed[history["pending"]].progress
    assert (progress.phase, progress.bytes_done, progress.bytes_total) == ("downloading", 512, 2048)
    assert not listed[history["cancelled"]].HasField("progress")
    failed = listed[history["cancelled"]].operation
    assert failed.done and failed.error.code == grpc.StatusCode.CANCELLED.value[0]
    assert image_id_of(listed[history["pending"]].operation)


def test_a_page_token_is_bound_to_its_filter(history):
    client = history["backend"].viewer
    token = list_ops(client, page_size=1).next_page_token
    for other in (dict(status=Status.DONE), dict(created_by="bob"), dict(image_id="x"), dict()):
        with raises_rpc() as caught:
            list_ops(
                client, "folder-elsewhere" if not other else FOLDER, page_size=1, page_token=token, **other
            )
        assert_invalid(caught, "page_token")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (dict(status=9), "status"),
        (dict(created_by="x" * 65), "created_by"),
        (dict(image_id="x" * 51), "image_id"),
        (dict(page_size=1001), "page_size"),
        (dict(page_size=-1), "page_size"),
        (dict(page_token="bogus"), "page_token"),
    ],
)
def test_refuses_bad_arguments(paused_backend, fields, field):
    with raises_rpc() as caught:
        list_ops(paused_backend.viewer, **fields)
    assert_invalid(caught, field)


@pytest.mark.parametrize("folder_id", ["", "f" * 51])
def test_refuses_a_missing_or_too_long_folder_id(paused_backend, folder_id):
    with raises_rpc() as caught:
        list_ops(paused_backend.viewer, folder_id)
    assert_invalid(caught, "folder_id")
