"""The official yandexcloud SDK's stubs drive every RPC against our server (in their own process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv

DRIVER = Path(__file__).with_name("sdk_driver.py")
FOLDER = "folder-sdk"
GIB = 1024**3


def test_the_official_sdk_drives_every_rpc(backend):
    disk = backend.register_source(
        "disk", FOLDER, 2 * GIB, product_ids=["sdk-product"], name="sdk-disk", labels={"made-by": "sdk"}
    )
    # A second labelled disk (first in "name desc" order) and one without the label.
    second = backend.register_source("disk", FOLDER, GIB, name="sdk-disk-two", labels={"made-by": "sdk"})
    backend.register_source("disk", FOLDER, GIB, name="unlabelled")
    snapshot = backend.register_source(
        "snapshot", FOLDER, 3 * GIB, name="sdk-snapshot", description="taken for the SDK"
    )
    token = backend.create_token("sdk-user", "editor")
    env = {**os.environ, "SDK_TOKEN": token}
    result = subprocess.run(
        [sys.executable, str(DRIVER), backend.address, FOLDER, disk, snapshot],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=DRIVER.parent,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    sources = out["sources"]
    got_disk = sources["disk"]
    assert got_disk.pop("createdAt")
    assert got_disk == {
        "id": disk,
        "folderId": FOLDER,
        "name": "sdk-disk",
        "labels": {"made-by": "sdk"},
        "typeId": "network-hdd",
        "zoneId": "ru-central1-a",
        "size": str(2 * GIB),
        "blockSize": "4096",
        "productIds": ["sdk-product"],
        "status": "READY",
    }
    assert sources["disk_page"] == {"ids": [second], "next_page_token": True}
    got_snapshot = sources["snapshot"]
    assert got_snapshot.pop("createdAt")
    assert got_snapshot == {
        "id": snapshot,
        "folderId": FOLDER,
        "name": "sdk-snapshot",
        "description": "taken for the SDK",
        "storageSize": str(3 * GIB),
        "diskSize": str(3 * GIB),
        "status": "READY",
    }
    assert sources["snapshot_ids"] == [snapshot]
    assert sources["missing_disk"] == 'NOT_FOUND: Disk "no-such-disk" not found'

    create = out["create"]
    assert create["done"] is False
    assert create["metadata_type_url"] == "type.googleapis.com/yandex.cloud.compute.v1.CreateImageMetadata"
    assert create["metadata_unpacked"] and create["response_unpacked"]
    assert create["response_type_url"] == "type.googleapis.com/yandex.cloud.compute.v1.Image"
    assert create["created_by"] == "sdk-user"
    image_id = create["image_id"]
    image = create["response_image"]
    assert image["id"] == image_id
    assert image["status"] == "READY"
    assert image["name"] == "sdk-image" and image["family"] == "sdk-family"
    assert image["labels"] == {"made-by": "sdk"}
    assert image["minDiskSize"] == str(2 * GIB) and image["productIds"] == ["sdk-product"]
    assert image["os"] == {"type": "LINUX"}
    assert out["get"] == image and out["get_equals_response"]
    assert out["latest_id"] == image_id
    assert out["list"] == {"ids": [image_id], "next_page_token": ""}

    update = out["update"]
    assert update["metadata_image_id"] == image_id
    assert update["image"]["description"] == "updated by the SDK"
    assert update["image"]["labels"] == {"updated": "yes"}
    assert update["image"]["name"] == "sdk-image"
    assert out["list_operations"] == [update["operation_id"], out["create_operation_id"]]
    assert out["cancel_finished_unchanged"] is True

    assert out["invalid"]["code"] == "INVALID_ARGUMENT"
    assert out["invalid"]["fields"] == ["name"]
    assert out["invalid"]["message"].startswith("Request validation error: name: ")

    assert out["delete"] == {"metadata_image_id": image_id, "response_is_empty": True, "has_error": False}
    assert out["get_after_delete"] == "NOT_FOUND"
    # And our own stubs agree: the image is gone.
    client = backend.editor
    assert list(client.call(client.images.List, isv.ListImagesRequest(folder_id=FOLDER)).images) == []
