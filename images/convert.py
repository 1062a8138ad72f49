"""Conversions between the models and the wire messages."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import any_pb2, timestamp_pb2
from google.rpc import status_pb2

from images.api.gen.imageservice.v1 import extension_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_pb2, image_service_pb2
from images.api.gen.yandex.cloud.operation import operation_pb2
from images.models import Image, Operation, OperationKind

_METADATA_TYPES = {
    OperationKind.CREATE: image_service_pb2.CreateImageMetadata,
    OperationKind.UPDATE: image_service_pb2.UpdateImageMetadata,
    OperationKind.DELETE: image_service_pb2.DeleteImageMetadata,
}


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def image_to_proto(image: Image) -> image_pb2.Image:
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
        status=image.status,
        os=image_pb2.Os(type=image.os_type),
        pooled=image.pooled,
        size=image.size,
    )


def pack_any(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def operation_to_proto(operation: Operation) -> operation_pb2.Operation:
    message = operation_pb2.Operation(
        id=operation.id,
        description=operation.description,
        created_at=timestamp(operation.created_at),
        created_by=operation.created_by,
        modified_at=timestamp(operation.modified_at),
        done=operation.done,
        metadata=pack_any(_METADATA_TYPES[operation.kind](image_id=operation.image_id)),
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
