"""Helpers of the semantics tests (a server with workers=0 holds operations pending where a
test needs to see an operation before it is done)."""

from __future__ import annotations

import datetime as dt
import re

from google.protobuf import field_mask_pb2

from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import (
    get_image,
    image_id_of,
    run_pending,
    start_create,
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
