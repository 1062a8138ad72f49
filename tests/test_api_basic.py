"""Each RPC's success path through a real server on port 0."""

import grpc
import pytest
from google.protobuf import empty_pb2, field_mask_pb2

from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv

FOLDER = "folder-basic"
GIB = 1024**3


def create_from_disk(client, backend, name="web", **fields):
    disk = backend.register_source("disk", FOLDER, 2 * GIB, product_ids=["p1"])
    operation = client.call(
        client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name=name, disk_id=disk, **fields)
    )
    return operation


def test_create_from_disk_returns_operation_then_image_is_ready(backend):
    client = backend.editor
    operation = create_from_disk(client, backend, family="web-family", labels={"env": "prod"})
    assert not operation.done
    metadata = isv.CreateImageMetadata()
    assert operation.metadata.Unpack(metadata)
    assert operation.metadata.type_url == "type.googleapis.com/yandex.cloud.compute.v1.CreateImageMetadata"
    done = client.wait(operation.id)
    assert done.done and done.WhichOneof("result") == "response"
    image = image_pb2.Image()
    done.response.Unpack(image)
    assert image.id == metadata.image_id
    assert image.status == image_pb2.Image.READY
    assert image.min_disk_size == 2 * GIB
    assert list(image.product_ids) == ["p1"]
    assert image.os.type == image_pb2.Os.LINUX
    got = client.call(client.images.Get, isv.GetImageRequest(image_id=image.id))
    assert got == image
    assert done.created_by.startswith("editor-")


def test_get_latest_by_family_returns_newest_ready(backend):
    client = backend.editor
    first = client.wait(create_from_disk(client, backend, name="a1", family="fam").id)
    second = client.wait(create_from_disk(client, backend, name="a2", family="fam").id)
    latest = client.call(
        client.images.GetLatestByFamily, isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family="fam")
    )
    first_image, second_image = image_pb2.Image(), image_pb2.Image()
    first.response.Unpack(first_image)
    second.response.Unpack(second_image)
    assert latest.id == second_image.id


def test_list_pages_through_every_image_once(backend):
    client = backend.editor
    ids = set()
    for index in range(7):
        done = client.wait(create_from_disk(client, backend, name=f"img-{index}").id)
        image = image_pb2.Image()
        done.response.Unpack(image)
        ids.add(image.id)
    seen = []
    token = ""
    while True:
        page = client.call(
            client.images.List, isv.ListImagesRequest(folder_id=FOLDER, page_size=3, page_token=token)
        )
        seen += [image.id for image in page.images]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(ids)


def test_update_with_mask_changes_only_masked_fields(backend):
    client = backend.editor
    done = client.wait(create_from_disk(client, backend, name="u1", description="old", labels={"a": "b"}).id)
    image = image_pb2.Image()
    done.response.Unpack(image)
    operation = client.call(
        client.images.Update,
        isv.UpdateImageRequest(
            image_id=image.id,
            update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
            description="ignored",
            labels={"x": "y"},
        ),
    )
    done = client.wait(operation.id)
    updated = image_pb2.Image()
    done.response.Unpack(updated)
    assert dict(updated.labels) == {"x": "y"}
    assert updated.description == "old"


def test_delete_shows_deleting_then_not_found_and_operations_stay_readable(backend):
    client = backend.editor
    created = client.wait(create_from_disk(client, backend, name="d1").id)
    image = image_pb2.Image()
    created.response.Unpack(image)
    operation = client.call(client.images.Delete, isv.DeleteImageRequest(image_id=image.id))
    done = client.wait(operation.id)
    assert done.response.Is(empty_pb2.Empty.DESCRIPTOR)
    with pytest.raises(grpc.RpcError) as error:
        client.call(client.images.Get, isv.GetImageRequest(image_id=image.id))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert error.value.details() == f'Image "{image.id}" not found'
    again = client.call(client.operations.Get, osv.GetOperationRequest(operation_id=created.id))
    assert again.done


def test_list_operations_newest_first(backend):
    client = backend.editor
    created = client.wait(create_from_disk(client, backend, name="o1").id)
    image = image_pb2.Image()
    created.response.Unpack(image)
    update = client.wait(
        client.call(
            client.images.Update,
            isv.UpdateImageRequest(
                image_id=image.id,
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
                description="d",
            ),
        ).id
    )
    listed = client.call(client.images.ListOperations, isv.ListImageOperationsRequest(image_id=image.id))
    assert [op.id for op in listed.operations] == [update.id, created.id]


def test_cancel_finished_operation_returns_it_unchanged(backend):
    client = backend.editor
    done = client.wait(create_from_disk(client, backend, name="c1").id)
    cancelled = client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=done.id))
    assert cancelled == done


def test_x_request_id_is_echoed(backend):
    client = backend.viewer
    _, call = client.images.List.with_call(
        isv.ListImagesRequest(folder_id=FOLDER), metadata=client.metadata(x_request_id="abc-123")
    )
    assert ("x-request-id", "abc-123") in call.initial_metadata()
