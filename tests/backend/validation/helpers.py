"""Helpers of the request validation tests."""

from __future__ import annotations

import uuid

from google.protobuf import field_mask_pb2

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.support import (
    assert_invalid,
    raises_rpc,
    stored_state,
)

FOLDER = "folder-validation"
MIN_DISK = 4194304
MAX_DISK = 4398046511104
NAME_63 = "a" + "b" * 61 + "c"
FAMILY_63 = "f" + "-" * 61 + "9"
KEY_63 = "k" + "./@_-9" * 10 + "xy"
VALUE_63 = "-_./@09az" * 7


def expect_rejected(call, field: str) -> str:
    """Runs `call(idempotency_key)`; asserts INVALID_ARGUMENT on `field` and that nothing was stored."""
    before = stored_state()
    with raises_rpc() as caught:
        call(str(uuid.uuid4()))
    reason = assert_invalid(caught, field)
    assert stored_state() == before
    return reason


def cases(params):
    """(id, *values) of each pytest.param: the cases of one test, run as subtests on one server."""
    return [(param.id, *param.values) for param in params]


def labels_of(count: int) -> dict[str, str]:
    return {f"key-{index}": f"value-{index}" for index in range(count)}


def list_images(client, **fields):
    return client.call(
        client.images.List, isv.ListImagesRequest(folder_id=fields.pop("folder_id", FOLDER), **fields)
    )


def first_token(client, **fields) -> str:
    page = list_images(client, page_size=2, **fields)
    assert page.next_page_token
    return page.next_page_token


def update(client, image_id: str, paths=None, key=None, **values):
    request = isv.UpdateImageRequest(image_id=image_id, **values)
    if paths is not None:
        request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=paths))
    return client.call(client.images.Update, request, idempotency_key=key)
