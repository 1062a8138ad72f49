"""Ids on every RPC that takes one, and GetLatestByFamily's family."""

from __future__ import annotations

import grpc
import pytest

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import (
    raises_rpc,
    stored_state,
)
from tests.backend.validation.helpers import (
    FAMILY_63,
    FOLDER,
    expect_rejected,
    update,
)

# --- ids on every RPC that takes one -----------------------------------------------------------


def image_id_calls(client):
    return {
        "Get": lambda image_id, key: client.call(client.images.Get, isv.GetImageRequest(image_id=image_id)),
        "Update": lambda image_id, key: update(client, image_id, paths=["description"], key=key),
        "Delete": lambda image_id, key: client.call(
            client.images.Delete, isv.DeleteImageRequest(image_id=image_id), idempotency_key=key
        ),
        "ListOperations": lambda image_id, key: client.call(
            client.images.ListOperations, isv.ListImageOperationsRequest(image_id=image_id)
        ),
    }


def test_image_id_is_required_and_at_most_50_characters(backend, image, subtests):
    for method, call in image_id_calls(backend.editor).items():
        with subtests.test(msg=method):
            assert "required" in expect_rejected(lambda key, call=call: call("", key), "image_id")
            assert "50" in expect_rejected(lambda key, call=call: call("i" * 51, key), "image_id")
            before = stored_state()
            with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
                call("i" * 50, None)
            assert caught.message == f'Image "{"i" * 50}" not found'
            assert stored_state() == before


@pytest.mark.parametrize("method", ["Get", "Cancel"])
def test_operation_id_is_required(backend, method):
    client = backend.editor
    stub = getattr(client.operations, method)
    request_type = osv.GetOperationRequest if method == "Get" else osv.CancelOperationRequest
    assert "required" in expect_rejected(
        lambda key: client.call(stub, request_type(operation_id="")), "operation_id"
    )
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(stub, request_type(operation_id="o" * 20))


def test_folder_id_is_required_and_at_most_50_characters_on_reads(backend, image):
    client = backend.viewer
    calls = [
        lambda folder_id: client.call(client.images.List, isv.ListImagesRequest(folder_id=folder_id)),
        lambda folder_id: client.call(
            client.images.GetLatestByFamily,
            isv.GetImageLatestByFamilyRequest(folder_id=folder_id, family="base-family"),
        ),
    ]
    for call in calls:
        expect_rejected(lambda key, call=call: call(""), "folder_id")
        expect_rejected(lambda key, call=call: call("f" * 51), "folder_id")
    assert list(calls[0]("f" * 50).images) == []
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        calls[1]("f" * 50)


# --- GetLatestByFamily -------------------------------------------------------------------------


def test_get_latest_by_family_checks_the_family(backend, image, subtests):
    client = backend.viewer
    for family in ["", "ab", "ab_c", "abc-", "abc\n", "Abc", "f" + "a" * 62 + "9"]:
        with subtests.test(msg=repr(family)):
            request = isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family=family)
            expect_rejected(lambda key, r=request: client.call(client.images.GetLatestByFamily, r), "family")
    for family in ["abc", FAMILY_63]:
        with subtests.test(msg=repr(family)), raises_rpc(grpc.StatusCode.NOT_FOUND):
            request = isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family=family)
            client.call(client.images.GetLatestByFamily, request)
