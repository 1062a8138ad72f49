"""What a worker does for each kind of operation, and how a cancelled or failed one is undone."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from google.protobuf import empty_pb2

from images import convert, operations
from images.models import Image, ImageStatus, Operation, OperationKind, Source

log = logging.getLogger(__name__)

# google.rpc.Code values used for operation errors.
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
FAILED_PRECONDITION = 9
ABORTED = 10
INTERNAL = 13
UNAVAILABLE = 14
MIN_DISK_FLOOR = 4 * 1024 * 1024


class JobFailed(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class JobCancelled(Exception):
    pass


@dataclass
class JobContext:
    cancel: threading.Event
    progress: Callable[[str, int, int], None]  # (phase, bytes_done, bytes_total)
    uri: str | None = None  # the full import URI, held only in memory
    store: object | None = None
    # Set at shutdown: stop work but leave the operation running, for recovery at the next start.
    abandon: threading.Event | None = None


def run(operation: Operation, context: JobContext) -> None:
    """Executes the operation to its end: done with a response, an error, or cancelled."""
    fields: dict = {}
    try:
        if operation.kind == OperationKind.CREATE:
            fields = _prepare_create(operation, context)
        if context.cancel.is_set():
            raise JobCancelled()
        _complete(operation.id, fields)
    except JobCancelled:
        if context.abandon is not None and context.abandon.is_set():
            log.info("operation %s abandoned at shutdown; it is recovered at the next start", operation.id)
            return
        _fail(operation.id, operations.CANCELLED, "operation cancelled", fields.get("blob", ""))
    except JobFailed as failure:
        _fail(operation.id, failure.code, failure.message, fields.get("blob", ""))
    except Exception:
        log.exception("operation %s failed unexpectedly", operation.id)
        _fail(operation.id, INTERNAL, "internal error while running the operation", fields.get("blob", ""))


def _prepare_create(operation: Operation, context: JobContext) -> dict:
    """Long work before the finishing transaction: for a URI, the whole import."""
    source = operation.payload["source"]
    if source["kind"] != "uri":
        return {}
    from images import importer

    if context.uri is None:
        from django.conf import settings

        # The interrupted process's partial download is named after the operation.
        importer.BlobStore(settings.IMAGESERVICE_DATA_DIR).remove_temp(operation.id)
        raise JobFailed(ABORTED, "the import was interrupted by a server restart; create the image again")
    from images.importer.isolated import run_import_isolated

    def progress(done: int, total: int) -> None:
        context.progress("downloading", done, total)

    try:
        result = run_import_isolated(
            context.uri,
            policy=importer.ImportPolicy.from_settings(),
            store_root=context.store.root,
            cancel=context.cancel,
            progress=progress,
            temp_label=operation.id,
        )
    except importer.ImportCancelled as cancelled:
        raise JobCancelled() from cancelled
    except importer.ImageRejected as rejected:
        raise JobFailed(INVALID_ARGUMENT, rejected.message) from rejected
    except importer.UrlRejected as rejected:
        raise JobFailed(INVALID_ARGUMENT, rejected.message) from rejected
    except importer.ImportStalled as stalled:
        raise JobFailed(DEADLINE_EXCEEDED, stalled.message) from stalled
    except importer.FetchFailed as failed:
        raise JobFailed(UNAVAILABLE, failed.message) from failed
    return {
        "blob": result.sha256,
        "storage_size": result.storage_size,
        "size": result.virtual_size,
        "import_virtual_size": result.virtual_size,
    }


def _complete(operation_id: str, fields: dict) -> None:
    with transaction.atomic():
        operation = operations.for_update(Operation.objects.filter(id=operation_id)).first()
        if operation is not None:
            finish_locked(operation, fields)


def finish_locked(operation: Operation, fields: dict | None = None) -> None:
    """Finishes the operation; the caller holds the transaction and the operation's row lock."""
    fields = fields or {}
    if operation.done:
        return
    if operation.cancel_requested:
        roll_back(operation)
        operations.finish_error(operation, operations.CANCELLED, "operation cancelled")
        _release_blob(fields.get("blob", ""))
        return
    handler = {
        OperationKind.CREATE: _finish_create,
        OperationKind.UPDATE: _finish_update,
        OperationKind.DELETE: _finish_delete,
    }[operation.kind]
    try:
        response = handler(operation, fields)
    except JobFailed as failure:
        roll_back(operation)
        operations.finish_error(operation, failure.code, failure.message)
        _release_blob(fields.get("blob", ""))
        return
    operations.finish_response(operation, convert.pack_any(response).SerializeToString())


def fail(operation_id: str, code: int, message: str) -> None:
    """Ends the operation with an error in its own transaction (after an unexpected exception)."""
    _fail(operation_id, code, message)


def _finish_create(operation: Operation, fields: dict):
    image = operations.for_update(Image.objects.filter(id=operation.image_id)).get()
    source = operation.payload["source"]
    if source["kind"] == "image":
        origin = _shared_lock(source["id"])
        if origin is None or origin.status != ImageStatus.READY:
            raise JobFailed(FAILED_PRECONDITION, f'Source image "{source["id"]}" is no longer available')
        image.blob = origin.blob
        image.storage_size = origin.storage_size
        image.size = origin.size or origin.min_disk_size
    elif source["kind"] in ("disk", "snapshot"):
        origin = Source.objects.filter(id=source["id"]).first()
        if origin is None:
            raise JobFailed(
                FAILED_PRECONDITION, f'Source {source["kind"]} "{source["id"]}" is no longer available'
            )
        image.storage_size = origin.size
        image.size = origin.size
    else:
        virtual = fields["import_virtual_size"]
        # Under the blob's lock: a concurrent release of the same content may have removed the
        # file our import found already stored.
        _lock_blob(fields["blob"])
        if not _store().exists(fields["blob"]):
            raise JobFailed(UNAVAILABLE, "the imported data was removed while the import finished; try again")
        image.blob = fields["blob"]
        image.storage_size = fields["storage_size"]
        image.size = virtual
        if image.min_disk_size == 0:
            image.min_disk_size = max(virtual, MIN_DISK_FLOOR)
        elif image.min_disk_size < virtual:
            raise JobFailed(
                INVALID_ARGUMENT,
                f"min_disk_size ({image.min_disk_size} bytes) is below the image's virtual size ({virtual} bytes)",
            )
    image.status = ImageStatus.READY
    image.active_operation_id = None
    image.save()
    return convert.image_to_proto(image)


def _shared_lock(image_id: str) -> Image | None:
    """The source image, share-locked on PostgreSQL: a delete waits for our commit, but copies of
    one popular image do not queue behind each other as they would with FOR UPDATE."""
    if connection.vendor != "postgresql":
        return Image.objects.filter(id=image_id).first()  # SQLite transactions are serialized
    table = Image._meta.db_table
    rows = list(Image.objects.raw(f'SELECT * FROM "{table}" WHERE "id" = %s FOR SHARE', [image_id]))  # noqa: S608
    return rows[0] if rows else None


def _finish_update(operation: Operation, fields: dict):
    image = Image.objects.get(id=operation.image_id)
    image.active_operation_id = None
    image.save(update_fields=["active_operation_id"])
    return convert.image_to_proto(image)


def _finish_delete(operation: Operation, fields: dict):
    image = Image.objects.filter(id=operation.image_id).first()
    if image is not None:
        blob = image.blob
        image.delete()
        _release_blob(blob)
    return empty_pb2.Empty()


def roll_back(operation: Operation) -> None:
    """Undoes the synchronous half of the operation; inside the finishing transaction."""
    image = operations.for_update(Image.objects.filter(id=operation.image_id)).first()
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
    _lock_blob(blob)
    if not Image.objects.filter(blob=blob).exists():
        _store().remove(blob)


def _lock_blob(blob: str) -> None:
    """A transaction lock per stored blob (SQLite's IMMEDIATE transactions already serialize)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(bytes.fromhex(blob[:16]), "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _store():
    from django.conf import settings

    from images.importer import BlobStore

    return BlobStore(settings.IMAGESERVICE_DATA_DIR)


def _fail(operation_id: str, code: int, message: str, orphan_blob: str = "") -> None:
    with transaction.atomic():
        _release_blob(orphan_blob)
        operation = operations.for_update(Operation.objects.filter(id=operation_id)).first()
        if operation is None or operation.done:
            return
        roll_back(operation)
        operations.finish_error(operation, code, message)
