"""The one conversion between the backend's models and records and the wire messages."""

from __future__ import annotations

import datetime as dt

from google.protobuf import any_pb2, empty_pb2, timestamp_pb2
from google.protobuf.message import Message
from google.rpc import status_pb2

from images.api.gen.imageservice.v1 import extension_pb2
from images.api.gen.yandex.cloud.compute.v1 import disk_pb2, image_pb2, image_service_pb2, snapshot_pb2
from images.api.gen.yandex.cloud.operation import operation_pb2
from images.domain.families import Family
from images.store.models import Image, Operation, OperationKind, Source
from images.store.queries import ImageRecord

_METADATA_TYPES = {
    OperationKind.CREATE: image_service_pb2.CreateImageMetadata,
    OperationKind.UPDATE: image_service_pb2.UpdateImageMetadata,
    OperationKind.DELETE: image_service_pb2.DeleteImageMetadata,
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# Both carry the fields an Image message has: a model for what a mutation wrote, a record for reads.
ImageLike = Image | ImageRecord


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    # Arithmetic rather than Timestamp.FromDatetime: List builds up to 1000 of these per call.
    if value.tzinfo is None:  # SQLite gives naive UTC datetimes to a raw cursor
        value = value.replace(tzinfo=dt.UTC)
    delta = value - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86400 + delta.seconds, nanos=delta.microseconds * 1000
    )


def image_to_proto(image: ImageLike) -> image_pb2.Image:
    return image_pb2.Image(
        id=image.id,
        folder_id=image.folder_id,
        created_at=timestamp(image.created_at),
        name=image.name,
        description=image.description,
        labels=image.labels,
        family=image.family,
        storage_size=image.storage_size,
        min_disk_size=image.min_disk_size,
        product_ids=image.product_ids,
        status=image.status,  # type: ignore[arg-type]  # ImageStatus values are the wire enum's
        os=image_pb2.Os(type=image.os_type),  # type: ignore[arg-type]
        pooled=image.pooled,
        size=image.size,
    )


def pack_any(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def response_bytes(image: ImageLike | None) -> bytes:
    """An operation's stored response: the image it created or updated, or Empty (a delete)."""
    message: Message = empty_pb2.Empty() if image is None else image_to_proto(image)
    return pack_any(message).SerializeToString()


def operation_to_proto(operation: Operation) -> operation_pb2.Operation:
    message = operation_pb2.Operation(
        id=operation.id,
        description=operation.description,
        created_at=timestamp(operation.created_at),
        created_by=operation.created_by,
        modified_at=timestamp(operation.modified_at),
        done=operation.done,
        metadata=pack_any(_METADATA_TYPES[OperationKind(operation.kind)](image_id=operation.image_id)),
    )
    if operation.done:
        if operation.error_code is not None:
            message.error.CopyFrom(
                status_pb2.Status(code=operation.error_code, message=operation.error_message)
            )
        elif operation.response is not None:
            message.response.ParseFromString(bytes(operation.response))
    return message


def progress_to_proto(operation: Operation) -> extension_pb2.OperationProgress | None:
    if not operation.progress_phase:
        return None
    return extension_pb2.OperationProgress(
        bytes_done=operation.progress_done,
        bytes_total=operation.progress_total,
        phase=operation.progress_phase,
    )


def family_to_proto(family: Family) -> extension_pb2.Family:
    message = extension_pb2.Family(
        name=family.name, image_count=family.image_count, last_change_at=timestamp(family.last_change_at)
    )
    if family.latest_image is not None:
        message.latest_image.CopyFrom(image_to_proto(family.latest_image))
    return message


# What the catalog does not hold, as the contract's defaults.
DISK_TYPE = "network-hdd"
DISK_ZONE = "ru-central1-a"
DISK_BLOCK_SIZE = 4096


def disk_to_proto(source: Source) -> disk_pb2.Disk:
    return disk_pb2.Disk(
        id=source.id,
        folder_id=source.folder_id,
        created_at=timestamp(source.created_at),
        name=source.name,
        description=source.description,
        labels=source.labels,
        type_id=DISK_TYPE,
        zone_id=DISK_ZONE,
        size=source.size,
        block_size=DISK_BLOCK_SIZE,
        product_ids=source.product_ids,
        status=disk_pb2.Disk.READY,
    )


def snapshot_to_proto(source: Source) -> snapshot_pb2.Snapshot:
    # The catalog holds one size: what the snapshot stores and the size of the disk it was taken of.
    return snapshot_pb2.Snapshot(
        id=source.id,
        folder_id=source.folder_id,
        created_at=timestamp(source.created_at),
        name=source.name,
        description=source.description,
        labels=source.labels,
        storage_size=source.size,
        disk_size=source.size,
        product_ids=source.product_ids,
        status=snapshot_pb2.Snapshot.READY,
    )


_FOLDER_STATUSES = {
    extension_pb2.ListFolderOperationsRequest.STATUS_UNSPECIFIED: "",
    extension_pb2.ListFolderOperationsRequest.RUNNING: "running",
    extension_pb2.ListFolderOperationsRequest.DONE: "done",
    extension_pb2.ListFolderOperationsRequest.FAILED: "failed",
}


def folder_status(value: int) -> str:
    """The domain's status filter for the wire enum; an unknown number passes through to be refused."""
    return _FOLDER_STATUSES.get(value, str(value))  # type: ignore[call-overload]


def operation_with_progress(operation: Operation) -> extension_pb2.OperationWithProgress:
    return extension_pb2.OperationWithProgress(
        operation=operation_to_proto(operation), progress=progress_to_proto(operation)
    )
