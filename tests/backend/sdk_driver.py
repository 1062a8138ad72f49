"""Drives every ImageService and OperationService RPC through the official `yandexcloud` SDK's stubs.

Run by test_sdk_compat.py in its own process: the SDK's generated modules have the same proto file
names as ours, so the two cannot be imported together. Prints one JSON object with what it saw.

And DiskService and SnapshotService Get and List (their read side).

    SDK_TOKEN=... python sdk_driver.py ADDRESS FOLDER_ID DISK_ID SNAPSHOT_ID
"""

from __future__ import annotations

import json
import os
import sys
import time

import grpc
from google.protobuf import empty_pb2, field_mask_pb2
from google.protobuf.json_format import MessageToDict
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from yandex.cloud.compute.v1 import (
    disk_service_pb2,
    disk_service_pb2_grpc,
    image_pb2,
    image_service_pb2,
    image_service_pb2_grpc,
    snapshot_service_pb2,
    snapshot_service_pb2_grpc,
)
from yandex.cloud.operation import operation_service_pb2, operation_service_pb2_grpc


def main(address: str, folder_id: str, disk_id: str, snapshot_id: str) -> dict:
    metadata = [("authorization", f"Bearer {os.environ['SDK_TOKEN']}")]
    channel = grpc.insecure_channel(address)
    images = image_service_pb2_grpc.ImageServiceStub(channel)
    operations = operation_service_pb2_grpc.OperationServiceStub(channel)

    def call(method, request, **extra):
        return method(request, metadata=metadata + list(extra.items()), timeout=10)

    def wait(operation):
        deadline = time.monotonic() + 15
        while not operation.done:
            if time.monotonic() > deadline:
                raise SystemExit(f"operation {operation.id} not done")
            time.sleep(0.005)
            operation = call(
                operations.Get, operation_service_pb2.GetOperationRequest(operation_id=operation.id)
            )
        return operation

    out: dict = {"sources": sources(call, channel, folder_id, disk_id, snapshot_id)}
    created = call(
        images.Create,
        image_service_pb2.CreateImageRequest(
            folder_id=folder_id,
            name="sdk-image",
            description="made by the SDK",
            labels={"made-by": "sdk"},
            family="sdk-family",
            disk_id=disk_id,
            os=image_pb2.Os(type=image_pb2.Os.LINUX),
        ),
    )
    create_metadata = image_service_pb2.CreateImageMetadata()
    out["create"] = {
        "done": created.done,
        "metadata_type_url": created.metadata.type_url,
        "metadata_unpacked": created.metadata.Unpack(create_metadata),
        "image_id": create_metadata.image_id,
        "created_by": created.created_by,
    }
    finished = wait(created)
    response_image = image_pb2.Image()
    out["create"]["response_type_url"] = finished.response.type_url
    out["create"]["response_unpacked"] = finished.response.Unpack(response_image)
    out["create"]["response_image"] = MessageToDict(response_image)
    image_id = create_metadata.image_id

    got = call(images.Get, image_service_pb2.GetImageRequest(image_id=image_id))
    out["get"] = MessageToDict(got)
    out["get_equals_response"] = got == response_image
    latest = call(
        images.GetLatestByFamily,
        image_service_pb2.GetImageLatestByFamilyRequest(folder_id=folder_id, family="sdk-family"),
    )
    out["latest_id"] = latest.id
    listed = call(
        images.List,
        image_service_pb2.ListImagesRequest(folder_id=folder_id, page_size=1, filter='name = "sdk-image"'),
    )
    out["list"] = {"ids": [image.id for image in listed.images], "next_page_token": listed.next_page_token}

    updated = wait(
        call(
            images.Update,
            image_service_pb2.UpdateImageRequest(
                image_id=image_id,
                update_mask=field_mask_pb2.FieldMask(paths=["description", "labels"]),
                name="ignored-by-the-mask",
                description="updated by the SDK",
                labels={"updated": "yes"},
            ),
        )
    )
    update_metadata = image_service_pb2.UpdateImageMetadata()
    updated.metadata.Unpack(update_metadata)
    updated_image = image_pb2.Image()
    updated.response.Unpack(updated_image)
    out["update"] = {
        "metadata_image_id": update_metadata.image_id,
        "image": MessageToDict(updated_image),
        "operation_id": updated.id,
    }

    history = call(images.ListOperations, image_service_pb2.ListImageOperationsRequest(image_id=image_id))
    out["list_operations"] = [operation.id for operation in history.operations]
    out["create_operation_id"] = created.id

    cancelled = call(operations.Cancel, operation_service_pb2.CancelOperationRequest(operation_id=updated.id))
    out["cancel_finished_unchanged"] = cancelled == updated

    try:
        call(
            images.Create,
            image_service_pb2.CreateImageRequest(folder_id=folder_id, name="Bad!", disk_id=disk_id),
        )
        out["invalid"] = None
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)
        bad_request = error_details_pb2.BadRequest()
        status.details[0].Unpack(bad_request)
        out["invalid"] = {
            "code": error.code().name,
            "message": error.details(),
            "fields": [violation.field for violation in bad_request.field_violations],
        }

    deleted = call(images.Delete, image_service_pb2.DeleteImageRequest(image_id=image_id))
    delete_metadata = image_service_pb2.DeleteImageMetadata()
    deleted.metadata.Unpack(delete_metadata)
    deleted = wait(deleted)
    out["delete"] = {
        "metadata_image_id": delete_metadata.image_id,
        "response_is_empty": deleted.response.Is(empty_pb2.Empty.DESCRIPTOR),
        "has_error": deleted.HasField("error"),
    }
    try:
        call(images.Get, image_service_pb2.GetImageRequest(image_id=image_id))
        out["get_after_delete"] = "OK"
    except grpc.RpcError as error:
        out["get_after_delete"] = error.code().name
    channel.close()
    return out


def sources(call, channel, folder_id: str, disk_id: str, snapshot_id: str) -> dict:
    disks = disk_service_pb2_grpc.DiskServiceStub(channel)
    snapshots = snapshot_service_pb2_grpc.SnapshotServiceStub(channel)
    disk = call(disks.Get, disk_service_pb2.GetDiskRequest(disk_id=disk_id))
    disk_page = call(
        disks.List,
        disk_service_pb2.ListDisksRequest(
            folder_id=folder_id, page_size=1, filter='labels.made-by = "sdk"', order_by="name desc"
        ),
    )
    snapshot = call(snapshots.Get, snapshot_service_pb2.GetSnapshotRequest(snapshot_id=snapshot_id))
    snapshot_page = call(snapshots.List, snapshot_service_pb2.ListSnapshotsRequest(folder_id=folder_id))
    try:
        call(disks.Get, disk_service_pb2.GetDiskRequest(disk_id="no-such-disk"))
        missing = "OK"
    except grpc.RpcError as error:
        missing = f"{error.code().name}: {error.details()}"
    return {
        "disk": MessageToDict(disk),
        "disk_page": {
            "ids": [row.id for row in disk_page.disks],
            "next_page_token": bool(disk_page.next_page_token),
        },
        "snapshot": MessageToDict(snapshot),
        "snapshot_ids": [row.id for row in snapshot_page.snapshots],
        "missing_disk": missing,
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
