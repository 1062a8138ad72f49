"""The extension RPCs' input, and messages over 4 MiB."""

from __future__ import annotations

import grpc

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.support import (
    MIB,
    raises_rpc,
    stored_state,
)
from tests.backend.validation.helpers import (
    FOLDER,
    expect_rejected,
    list_images,
    update,
)

# --- extension RPCs ------------------------------------------------------------------------------


def test_extension_rpcs_validate_their_input(backend, image):
    client = backend.viewer
    stub = extension_pb2_grpc.ImageExtensionServiceStub(client.channel)
    expect_rejected(
        lambda key: client.call(stub.ListFamilies, extension_pb2.ListFamiliesRequest()), "folder_id"
    )
    expect_rejected(
        lambda key: client.call(
            stub.ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=FOLDER, page_size=-1)
        ),
        "page_size",
    )
    expect_rejected(
        lambda key: client.call(
            stub.ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=FOLDER, page_token="forged")
        ),
        "page_token",
    )
    for families in (["Bad_Family"], [""], [f"fam-{index:04d}" for index in range(1001)]):
        expect_rejected(
            lambda key, families=families: client.call(
                stub.ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=FOLDER, families=families)
            ),
            "families",
        )
    too_many = extension_pb2.BatchGetOperationsRequest(operation_ids=[f"op{index}" for index in range(101)])
    expect_rejected(lambda key: client.call(stub.BatchGetOperations, too_many), "operation_ids")


# --- oversize messages ---------------------------------------------------------------------------


def test_messages_over_4_mib_are_resource_exhausted_and_store_nothing(backend, disk, image):
    client = backend.editor
    before = stored_state()
    huge = "x" * (4 * MIB + 1)
    calls = [
        lambda: client.call(
            client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, description=huge)
        ),
        lambda: update(client, image.id, paths=["description"], description=huge),
        lambda: list_images(client, filter=huge),
        lambda: client.call(client.images.Get, isv.GetImageRequest(image_id=huge)),
    ]
    for call in calls:
        with raises_rpc(grpc.StatusCode.RESOURCE_EXHAUSTED):
            call()
    assert stored_state() == before
    # Just under the limit the message is read, and the rule on the field answers.
    just_under = "x" * (4 * MIB - 1024)
    expect_rejected(
        lambda key: client.call(
            client.images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, description=just_under),
            idempotency_key=key,
        ),
        "description",
    )
