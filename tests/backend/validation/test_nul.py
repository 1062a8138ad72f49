"""NUL characters: PostgreSQL cannot store them, so they must never reach the database."""

from __future__ import annotations

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.validation.helpers import (
    FOLDER,
    expect_rejected,
    list_images,
    update,
)

# --- NUL characters: PostgreSQL cannot store them, so they must never reach the database -----------


def test_nul_characters_in_any_string_are_invalid_argument(backend, disk, image, subtests):
    client = backend.editor
    stub = extension_pb2_grpc.ImageExtensionServiceStub(client.channel)
    nul = "a\x00b"
    calls = {
        "image_id": [
            lambda: client.call(client.images.Get, isv.GetImageRequest(image_id=nul)),
            lambda: update(client, nul, paths=["description"]),
            lambda: client.call(client.images.Delete, isv.DeleteImageRequest(image_id=nul)),
            lambda: client.call(client.images.ListOperations, isv.ListImageOperationsRequest(image_id=nul)),
            lambda: client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, image_id=nul)),
        ],
        "folder_id": [
            lambda: list_images(client, folder_id=nul),
            lambda: client.call(
                client.images.GetLatestByFamily,
                isv.GetImageLatestByFamilyRequest(folder_id=nul, family="abc"),
            ),
            lambda: client.call(client.images.Create, isv.CreateImageRequest(folder_id=nul, disk_id=disk)),
            lambda: client.call(stub.ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=nul)),
        ],
        "disk_id": [
            lambda: client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=nul))
        ],
        "snapshot_id": [
            lambda: client.call(
                client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, snapshot_id=nul)
            )
        ],
        "description": [
            lambda: client.call(
                client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, description=nul)
            ),
            lambda: update(client, image.id, paths=["description"], description=nul),
        ],
        "product_ids": [
            lambda: client.call(
                client.images.Create,
                isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, product_ids=[nul]),
            )
        ],
        "name": [lambda: update(client, image.id, paths=["name"], name="ab\x00c")],
        "labels": [
            lambda: update(client, image.id, paths=["labels"], labels={"k": nul}),
            lambda: update(client, image.id, paths=["labels"], labels={nul: "v"}),
        ],
        "family": [
            lambda: client.call(
                client.images.GetLatestByFamily,
                isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family="ab\x00c"),
            )
        ],
        "filter": [
            lambda: list_images(client, filter=f'name = "{nul}"'),
            lambda: list_images(client, filter=nul),
        ],
        "operation_id": [
            lambda: client.call(client.operations.Get, osv.GetOperationRequest(operation_id=nul)),
            lambda: client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=nul)),
        ],
        "operation_ids": [
            lambda: client.call(
                stub.BatchGetOperations, extension_pb2.BatchGetOperationsRequest(operation_ids=[nul])
            )
        ],
    }
    for field, field_calls in calls.items():
        for index, call in enumerate(field_calls):
            with subtests.test(msg=f"{field} #{index}"):
                expect_rejected(lambda key, call=call: call(), field)
