"""How an operation ends: each kind's finishing step, rollback of a cancelled or failed one, cancel.

An operation is started by a service (images.domain.operations.start, in the mutation's
transaction); a worker then finishes it here: complete() for a success, fail() for an error, and
cancel() is the client's request. Every ending runs in one transaction with the operation's row
locked, so it happens once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from google.rpc import code_pb2

from images import metrics, rules
from images.domain import operations
from images.errors import NotFound
from images.importer import BlobStore
from images.store import locks
from images.store.models import (
    Image,
    ImageStatus,
    Operation,
    OperationKind,
    OperationState,
    Source,
    SourceKind,
)

log = logging.getLogger(__name__)

CANCELLED_MESSAGE = "operation cancelled"
INTERNAL_MESSAGE = "internal error while running the operation"


class OperationFailed(Exception):
    """Ends the operation with this google.rpc code and message; raised by its finishing step."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImportedData:
    """What an import stored for a Create from a URI."""

    blob: str  # sha256 of the stored data
    storage_size: int
    virtual_size: int


# The operation's response as stored (a serialized google.protobuf.Any): the image an operation
# created or updated, or None for Empty. The gRPC edge provides it (images.apps wires it up), so
# this layer never builds a wire message.
ResponseEncoder = Callable[[Image | None], bytes]
_encode_response: ResponseEncoder | None = None


def set_response_encoder(encoder: ResponseEncoder) -> None:
    global _encode_response
    _encode_response = encoder


def encode_response(image: Image | None) -> bytes:
    if _encode_response is None:
        raise RuntimeError("no response encoder: the images app wires it up in ready()")
    return _encode_response(image)


def complete(operation_id: str, imported: ImportedData | None = None) -> None:
    """Finishes the operation in its own transaction (a no-op if it is done already)."""
    with transaction.atomic():
        operation = locks.for_update(Operation.objects.filter(id=operation_id)).first()
        if operation is not None:
            finish_locked(operation, imported)


def finish_locked(operation: Operation, imported: ImportedData | None = None) -> None:
    """Finishes the operation; the caller holds the transaction and the operation's row lock."""
    if operation.done:
        return
    orphan = imported.blob if imported else ""
    if operation.cancel_requested:
        roll_back(operation)
        operations.finish_error(operation, code_pb2.CANCELLED, CANCELLED_MESSAGE)
        _release_blob(orphan)
        return
    try:
        if operation.kind == OperationKind.CREATE:
            response = _finish_create(operation, imported)
        elif operation.kind == OperationKind.UPDATE:
            response = _finish_update(operation)
        else:
            _finish_delete(operation)
            response = None
    except OperationFailed as failure:
        roll_back(operation)
        operations.finish_error(operation, failure.code, failure.message)
        _release_blob(orphan)
        return
    operations.finish_response(operation, encode_response(response))


def fail(operation_id: str, code: int, message: str, orphan_blob: str = "") -> None:
    """Ends the operation with an error, undoing its synchronous half, in its own transaction; a
    persisted cancel request wins over the error (the operation ends CANCELLED)."""
    with transaction.atomic():
        _release_blob(orphan_blob)
        operation = locks.for_update(Operation.objects.filter(id=operation_id)).first()
        if operation is None or operation.done:
            return
        roll_back(operation)
        if operation.cancel_requested:
            # The client's cancel was accepted and persisted before this failure (a crash, a stall,
            # a rejected download): it is honoured, as finish_locked() honours it.
            code, message = code_pb2.CANCELLED, CANCELLED_MESSAGE
        operations.finish_error(operation, code, message)


def finish_many_locked(batch: list[Operation]) -> None:
    """Finishes many operations in the caller's transaction (their rows locked), as finish_locked()
    would one by one, in a few statements: Creates from a disk or snapshot and Updates, the bulk of
    any backlog. Copies of an image, Deletes, cancelled ones and anything unusual take
    finish_locked()."""
    live = [operation for operation in batch if not operation.done]
    images = locks.for_update(Image.objects.filter(id__in=[op.image_id for op in live])).in_bulk()
    wanted = {op.payload.get("source", {}).get("id") for op in live if op.kind == OperationKind.CREATE}
    sources = Source.objects.in_bulk([source_id for source_id in wanted if source_id])
    by_source: dict[str, list[str]] = {}  # source id -> the images it completes
    updated: list[str] = []
    finished: list[Operation] = []
    for operation in live:
        image = images.get(operation.image_id)
        source = operation.payload.get("source", {})
        if operation.cancel_requested or image is None:
            finish_locked(operation)
            continue
        if operation.kind == OperationKind.UPDATE:
            updated.append(image.id)
        elif (
            operation.kind == OperationKind.CREATE
            and source.get("kind") in SourceKind.values
            and source.get("id") in sources
        ):
            by_source.setdefault(source["id"], []).append(image.id)
            image.storage_size = image.size = sources[source["id"]].size
            image.status = ImageStatus.READY
        else:
            finish_locked(operation)
            continue
        image.active_operation_id = None
        operations.mark_done(operation, response=encode_response(image))
        finished.append(operation)
    for source_id, image_ids in by_source.items():
        size = sources[source_id].size
        Image.objects.filter(id__in=image_ids).update(
            storage_size=size, size=size, status=ImageStatus.READY, active_operation_id=None
        )
    Image.objects.filter(id__in=updated).update(active_operation_id=None)
    operations.save_results(finished)


def fail_many_locked(batch: list[Operation], code: int, message: str) -> None:
    """Ends many operations with an error in the caller's transaction (their rows locked), as fail()
    would one by one (a persisted cancel wins), in a few statements: the images of Creates that hold
    no data yet are deleted at once; everything else is rolled back one by one."""
    live = [operation for operation in batch if not operation.done]
    images = locks.for_update(Image.objects.filter(id__in=[op.image_id for op in live])).in_bulk()
    plain_creates: list[str] = []
    for operation in live:
        image = images.get(operation.image_id)
        if operation.kind == OperationKind.CREATE and image is not None and not image.blob:
            plain_creates.append(image.id)
        else:
            roll_back(operation)
        if operation.cancel_requested:
            operations.mark_done(operation, error_code=code_pb2.CANCELLED, error_message=CANCELLED_MESSAGE)
        else:
            operations.mark_done(operation, error_code=code, error_message=message)
    Image.objects.filter(id__in=plain_creates).delete()
    operations.save_results(live)


def cancel(operation_id: str) -> Operation:
    """Best-effort cancel: persists the request; a pending operation is rolled back at once, a
    running one is stopped by its worker (told through the "cancel" event or its heartbeat)."""
    operations.get(operation_id)
    with transaction.atomic():
        operation = locks.for_update(Operation.objects.filter(id=operation_id)).first()
        if operation is None:
            raise NotFound(f'Operation "{operation_id}" not found')
        if operation.done:
            return operation
        if not operation.cancel_requested:
            operation.cancel_requested = True
            operation.modified_at = timezone.now()
            operation.save(update_fields=["cancel_requested", "modified_at"])
            transaction.on_commit(metrics.OPERATION_CANCEL_REQUESTS.inc)
        if operation.state == OperationState.PENDING:
            roll_back(operation)
            operations.finish_error(operation, code_pb2.CANCELLED, CANCELLED_MESSAGE)
        else:
            operations.emit_on_commit("cancel", operation.id)
    return Operation.objects.get(id=operation_id)


def _finish_create(operation: Operation, imported: ImportedData | None) -> Image:
    image = locks.for_update(Image.objects.filter(id=operation.image_id)).get()
    source = operation.payload["source"]
    if source["kind"] == "image":
        origin = locks.image_share_locked(source["id"])
        if origin is None or origin.status != ImageStatus.READY:
            raise OperationFailed(
                code_pb2.FAILED_PRECONDITION, f'Source image "{source["id"]}" is no longer available'
            )
        image.blob = origin.blob
        image.storage_size = origin.storage_size
        image.size = origin.size or origin.min_disk_size
    elif source["kind"] in SourceKind.values:
        row = Source.objects.filter(id=source["id"]).first()
        if row is None:
            raise OperationFailed(
                code_pb2.FAILED_PRECONDITION,
                f'Source {source["kind"]} "{source["id"]}" is no longer available',
            )
        image.storage_size = row.size
        image.size = row.size
    else:
        if imported is None:
            raise OperationFailed(code_pb2.INTERNAL, "the import's data is missing")
        virtual = imported.virtual_size
        # Under the blob's lock: a concurrent release of the same content may have removed the
        # file our import found already stored.
        locks.lock_blob(imported.blob)
        if not _store().exists(imported.blob):
            raise OperationFailed(
                code_pb2.UNAVAILABLE, "the imported data was removed while the import finished; try again"
            )
        image.blob = imported.blob
        image.storage_size = imported.storage_size
        image.size = virtual
        if image.min_disk_size == 0:
            image.min_disk_size = max(virtual, rules.MIN_DISK_SIZE)
        elif image.min_disk_size < virtual:
            raise OperationFailed(
                code_pb2.INVALID_ARGUMENT,
                f"min_disk_size ({image.min_disk_size} bytes) is below the image's virtual size ({virtual} bytes)",
            )
    image.status = ImageStatus.READY
    image.active_operation_id = None
    image.save()
    return image


def _finish_update(operation: Operation) -> Image:
    image = Image.objects.get(id=operation.image_id)
    image.active_operation_id = None
    image.save(update_fields=["active_operation_id"])
    return image


def _finish_delete(operation: Operation) -> None:
    image = Image.objects.filter(id=operation.image_id).first()
    if image is not None:
        blob = image.blob
        image.delete()
        _release_blob(blob)


def roll_back(operation: Operation) -> None:
    """Undoes the synchronous half of the operation; inside the finishing transaction."""
    image = locks.for_update(Image.objects.filter(id=operation.image_id)).first()
    if image is None:
        return
    if operation.kind == OperationKind.CREATE:
        blob = image.blob
        image.delete()
        _release_blob(blob)
        return
    if operation.kind == OperationKind.UPDATE:
        previous = operation.payload.get("previous", {})
        for path, value in previous.items():
            if (
                path == "name"
                and value
                and Image.objects.filter(folder_id=image.folder_id, name=value).exclude(id=image.id).exists()
            ):
                continue  # another image took the old name meanwhile; keep the new one
            setattr(image, path, value)
    elif operation.kind == OperationKind.DELETE:
        image.status = operation.payload.get("previous_status", ImageStatus.READY)
    image.active_operation_id = None
    image.save()


def _release_blob(blob: str) -> None:
    """Removes stored data no image references any more; call inside the transaction that dropped
    the last reference, so the operation is done only once the data is gone.

    The check and the removal happen under the blob's lock, which an import finishing with the same
    content takes too: it either sees the file gone or keeps it referenced. Should the commit fail
    after the removal, `verifyimages` marks the images left without data ERROR.
    """
    if not blob:
        return
    locks.lock_blob(blob)
    if not Image.objects.filter(blob=blob).exists():
        _store().remove(blob)


def _store() -> BlobStore:
    return BlobStore(settings.IMAGESERVICE_DATA_DIR)
