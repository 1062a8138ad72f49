"""Demo data: a folder with families of several versions, every visible status, sources, operations."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from google.rpc import code_pb2

from images.domain import lifecycle, operations
from images.store import ids
from images.store.models import (
    Image,
    ImageStatus,
    Operation,
    OperationKind,
    OperationState,
    OsType,
    Source,
    SourceKind,
)

DEMO_FOLDER = "demo-folder"
GIB = 1024**3
FAMILIES = [
    # family, os, product, versions (newest last), size in GiB
    ("ubuntu-2404-lts", OsType.LINUX, "f2e-ubuntu", ["20260815", "20260915", "20261015", "20261115"], 8),
    ("debian-12", OsType.LINUX, "f2e-debian", ["20260901", "20261001", "20261101"], 4),
    ("almalinux-9", OsType.LINUX, "f2e-alma", ["20260710", "20261020"], 10),
    ("windows-server-2022", OsType.WINDOWS, "f2e-win2022", ["2026-09", "2026-10", "2026-11"], 40),
    ("nginx-appliance", OsType.LINUX, "f2e-nginx", ["1-26-1", "1-27-0"], 6),
]


def _operation(kind, image_id, folder_id, at, who, *, response=None, error=None) -> Operation:
    operation = Operation(
        id=ids.new_id(ids.OPERATION),
        kind=kind,
        description=operations.DESCRIPTIONS[kind],
        created_at=at,
        created_by=who,
        modified_at=at + timedelta(seconds=3),
        image_id=image_id,
        folder_id=folder_id,
        state=OperationState.DONE,
        payload={},
    )
    if error:
        operation.error_code, operation.error_message = error
    else:
        operation.response = lifecycle.encode_response(response)
    return operation


@transaction.atomic
def seed_demo(folder_id: str = DEMO_FOLDER) -> bool:
    """Loads the demo data once; returns False when the folder already has images."""
    if Image.objects.filter(folder_id=folder_id).exists():
        return False
    now = timezone.now().replace(microsecond=0)
    images: list[Image] = []
    ops: list[Operation] = []
    for family_index, (family, os_type, product, versions, size_gib) in enumerate(FAMILIES):
        for version_index, version in enumerate(versions):
            created = now - timedelta(days=30 * (len(versions) - version_index), hours=family_index)
            newest = version_index == len(versions) - 1
            labels = {
                "os": family.split("-")[0],
                "channel": "stable" if not newest else "latest",
                "build": version,
            }
            if version_index % 2:
                labels["security-patch"] = "yes"
            size = (size_gib + version_index) * GIB
            image = Image(
                id=ids.new_id(ids.IMAGE),
                folder_id=folder_id,
                created_at=created,
                name=f"{family}-v{version}".lower().replace(".", "-"),
                description=f"{family} build {version}"
                + (" with the latest security fixes" if newest else ""),
                labels=labels,
                family=family,
                storage_size=size // 3,
                min_disk_size=size,
                product_ids=[product],
                status=ImageStatus.READY,
                os_type=os_type,
                size=size,
            )
            images.append(image)
            ops.append(
                _operation(
                    OperationKind.CREATE,
                    image.id,
                    folder_id,
                    created,
                    "demo-editor",
                    response=image,
                )
            )
    # A broken image (failed verification) and an image without a family.
    broken = Image(
        id=ids.new_id(ids.IMAGE),
        folder_id=folder_id,
        created_at=now - timedelta(days=2),
        name="debian-12-custom-broken",
        description="Stored data failed verification",
        labels={"owner": "team-infra"},
        family="debian-12",
        storage_size=2 * GIB,
        min_disk_size=4 * GIB,
        status=ImageStatus.ERROR,
        os_type=OsType.LINUX,
        size=4 * GIB,
    )
    loose = Image(
        id=ids.new_id(ids.IMAGE),
        folder_id=folder_id,
        created_at=now - timedelta(days=1),
        name="scratch-build",
        description="One-off test image",
        labels={"owner": "alice", "temporary": "true"},
        storage_size=GIB,
        min_disk_size=2 * GIB,
        status=ImageStatus.READY,
        os_type=OsType.LINUX,
        size=2 * GIB,
    )
    images += [broken, loose]
    failed_at = now - timedelta(hours=5)
    ops.append(
        _operation(
            OperationKind.CREATE,
            ids.new_id(ids.IMAGE),
            folder_id,
            failed_at,
            "demo-editor",
            error=(code_pb2.INVALID_ARGUMENT, "qcow2 images with a backing file are not accepted"),
        )
    )
    ops.append(_operation(OperationKind.UPDATE, loose.id, folder_id, now - timedelta(hours=3), "demo-editor",
                          response=loose))  # fmt: skip
    deleted_id = ids.new_id(ids.IMAGE)
    ops.append(_operation(OperationKind.DELETE, deleted_id, folder_id, now - timedelta(hours=2), "demo-editor",
                          response=None))  # fmt: skip
    Image.objects.bulk_create(images)
    Operation.objects.bulk_create(ops)
    Source.objects.bulk_create(
        _source(folder, kind, name, description, labels, size, product, os_type, now - timedelta(days=age))
        for folder, kind, name, description, labels, size, product, os_type, age in _sources(folder_id)
    )
    return True


def staging_folder(folder_id: str) -> str:
    """The second demo folder, which holds only disks and snapshots."""
    return f"{folder_id}-staging"


def _sources(folder_id: str) -> list[tuple]:
    staging = staging_folder(folder_id)
    disk, snapshot = SourceKind.DISK, SourceKind.SNAPSHOT
    linux, windows = OsType.LINUX, OsType.WINDOWS
    # folder, kind, name, description, labels, size, product, os, age in days
    return [
        (folder_id, disk, "web-frontend-boot", "Boot disk of the web frontend",
         {"env": "prod", "team": "web"}, 8 * GIB, "f2e-ubuntu", linux, 12),
        (folder_id, disk, "build-runner-data", "Scratch disk of the CI runner",
         {"env": "ci", "team": "infra"}, 20 * GIB, "", linux, 3),
        (folder_id, snapshot, "db-primary-nightly", "Nightly snapshot of the primary database",
         {"env": "prod", "team": "data", "schedule": "nightly"}, 12 * GIB, "f2e-debian", linux, 1),
        (folder_id, snapshot, "ad-controller-golden", "Golden snapshot of the domain controller",
         {"env": "prod", "team": "it"}, 50 * GIB, "f2e-win2022", windows, 20),
        (staging, disk, "web-frontend-boot", "Boot disk of the staging web frontend",
         {"env": "staging", "team": "web"}, 8 * GIB, "f2e-ubuntu", linux, 5),
        (staging, snapshot, "api-release-candidate", "Snapshot before the release candidate rollout",
         {"env": "staging", "team": "api", "release": "rc1"}, 10 * GIB, "f2e-debian", linux, 2),
    ]  # fmt: skip


def _source(folder_id, kind, name, description, labels, size, product, os_type, created) -> Source:
    return Source(
        id=ids.new_id(ids.DISK if kind == SourceKind.DISK else ids.SNAPSHOT),
        kind=kind,
        folder_id=folder_id,
        name=name,
        description=description,
        labels=labels,
        size=size,
        product_ids=[product] if product else [],
        os_type=os_type,
        created_at=created,
    )
