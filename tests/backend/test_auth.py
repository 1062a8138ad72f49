"""The auth matrix for every RPC (no token, malformed header, unknown token, viewer, editor), and
that tokens are stored only as hashes and never logged."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import grpc
import pytest
from django.db import connection

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import disk_service_pb2 as dsv
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.compute.v1 import snapshot_service_pb2 as ssv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import GIB, create_ready, image_id_of, raises_rpc, stored_state

FOLDER = "folder-auth"


@dataclass
class World:
    """What the calls of the matrix act on."""

    backend: object
    disk: str
    snapshot: str
    image_id: str
    operation_id: str
    victim: str  # an image for Delete


@pytest.fixture
def world(backend):
    client = backend.editor
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    created = client.wait(
        client.call(
            client.images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, family="fam", name="img"),
        ).id
    )
    victim = create_ready(client, backend, FOLDER, disk_id=disk).id
    snapshot = backend.register_source("snapshot", FOLDER, 1 * GIB)
    return World(backend, disk, snapshot, image_id_of(created), created.id, victim)


def extension(client):
    return extension_pb2_grpc.ImageExtensionServiceStub(client.channel)


READS = {
    "ImageService/Get": lambda c, w: c.call(c.images.Get, isv.GetImageRequest(image_id=w.image_id)),
    "ImageService/GetLatestByFamily": lambda c, w: c.call(
        c.images.GetLatestByFamily, isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family="fam")
    ),
    "ImageService/List": lambda c, w: c.call(c.images.List, isv.ListImagesRequest(folder_id=FOLDER)),
    "ImageService/ListOperations": lambda c, w: c.call(
        c.images.ListOperations, isv.ListImageOperationsRequest(image_id=w.image_id)
    ),
    "OperationService/Get": lambda c, w: c.call(
        c.operations.Get, osv.GetOperationRequest(operation_id=w.operation_id)
    ),
    "ImageExtensionService/ListFamilies": lambda c, w: c.call(
        extension(c).ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=FOLDER)
    ),
    "ImageExtensionService/BatchGetOperations": lambda c, w: c.call(
        extension(c).BatchGetOperations,
        extension_pb2.BatchGetOperationsRequest(operation_ids=[w.operation_id]),
    ),
    "ImageExtensionService/ListFolderOperations": lambda c, w: c.call(
        extension(c).ListFolderOperations, extension_pb2.ListFolderOperationsRequest(folder_id=FOLDER)
    ),
    "ImageExtensionService/ListImages": lambda c, w: c.call(
        extension(c).ListImages, isv.ListImagesRequest(folder_id=FOLDER)
    ),
    "DiskService/Get": lambda c, w: c.call(c.disks.Get, dsv.GetDiskRequest(disk_id=w.disk)),
    "DiskService/List": lambda c, w: c.call(c.disks.List, dsv.ListDisksRequest(folder_id=FOLDER)),
    "SnapshotService/Get": lambda c, w: c.call(
        c.snapshots.Get, ssv.GetSnapshotRequest(snapshot_id=w.snapshot)
    ),
    "SnapshotService/List": lambda c, w: c.call(c.snapshots.List, ssv.ListSnapshotsRequest(folder_id=FOLDER)),
}

WRITES = {
    "ImageService/Create": lambda c, w: c.call(
        c.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=w.disk)
    ),
    "ImageService/Update": lambda c, w: c.call(
        c.images.Update, isv.UpdateImageRequest(image_id=w.image_id, description=f"by {uuid.uuid4().hex}")
    ),
    "ImageService/Delete": lambda c, w: c.call(c.images.Delete, isv.DeleteImageRequest(image_id=w.victim)),
    "OperationService/Cancel": lambda c, w: c.call(
        c.operations.Cancel, osv.CancelOperationRequest(operation_id=w.operation_id)
    ),
}

ALL = {**READS, **WRITES}


def test_the_matrix_names_every_rpc_of_every_service():
    from images.api.gen.imageservice.v1 import extension_pb2 as ext
    from images.api.gen.yandex.cloud.compute.v1 import (
        disk_service_pb2,
        image_service_pb2,
        snapshot_service_pb2,
    )
    from images.api.gen.yandex.cloud.operation import operation_service_pb2
    from images.grpc.server import SERVICE_NAMES

    methods = set()
    for module in (image_service_pb2, operation_service_pb2, ext, disk_service_pb2, snapshot_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            assert service.full_name in SERVICE_NAMES
            methods |= {f"{service.name}/{method.name}" for method in service.methods}
    assert methods == set(ALL)
    assert len([name for name in methods if not name.startswith("ImageExtensionService/")]) == 13


BAD_CREDENTIALS = {
    "no metadata": None,
    "empty": "",
    "no scheme": "TOKEN",
    "basic scheme": "Basic TOKEN",
    "token scheme": "Token TOKEN",
    "bearer without token": "Bearer",
    "bearer with blank token": "Bearer    ",
    "token with extra words": "Bearer TOKEN extra",
    "unknown token": "Bearer ism_" + "x" * 43,
    "truncated token": "Bearer TOKEN[:-1]",
}


def credentials(template: str | None, token: str) -> list[tuple[str, str]]:
    if template is None:
        return []
    return [("authorization", template.replace("TOKEN[:-1]", token[:-1]).replace("TOKEN", token))]


def test_calls_without_a_known_token_are_unauthenticated(world, subtests):
    backend = world.backend
    anonymous = backend.client(None)
    before = stored_state()
    for case, template in BAD_CREDENTIALS.items():
        metadata = credentials(template, backend.editor_token)
        for name, call in ALL.items():
            with subtests.test(msg=f"{case}: {name}"):
                anonymous.metadata = lambda idempotency_key=None, m=metadata, **extra: list(m)
                with raises_rpc(grpc.StatusCode.UNAUTHENTICATED):
                    call(anonymous, world)
    assert stored_state() == before


def test_auth_is_checked_before_validation(world):
    backend = world.backend
    anonymous = backend.client(None)
    with raises_rpc(grpc.StatusCode.UNAUTHENTICATED):
        anonymous.call(anonymous.images.Create, isv.CreateImageRequest(name="Bad\n"))
    viewer = backend.viewer
    with raises_rpc(grpc.StatusCode.PERMISSION_DENIED):
        viewer.call(viewer.images.Create, isv.CreateImageRequest(name="Bad\n"))
    with raises_rpc(grpc.StatusCode.PERMISSION_DENIED):
        viewer.call(viewer.images.Delete, isv.DeleteImageRequest(image_id="missing"))


def test_a_viewer_may_read_but_not_change(world, subtests):
    viewer = world.backend.viewer
    for name, call in READS.items():
        with subtests.test(msg=name):
            assert call(viewer, world) is not None
    before = stored_state()
    for name, call in WRITES.items():
        with subtests.test(msg=name):
            with raises_rpc(grpc.StatusCode.PERMISSION_DENIED) as caught:
                call(viewer, world)
            assert caught.message
    assert stored_state() == before


def test_an_editor_may_call_everything(world, subtests):
    editor = world.backend.editor
    for name, call in ALL.items():
        with subtests.test(msg=name):
            result = call(editor, world)
            if name in WRITES and name != "OperationService/Cancel":
                done = editor.wait(result.id)
                assert done.WhichOneof("result") == "response", done.error
                assert done.created_by == editor_name(world)


def editor_name(world) -> str:
    from images.store.models import ApiToken

    return ApiToken.objects.get(role="editor", name__startswith="editor-").name


def test_an_unknown_role_is_permission_denied(world):
    from images.store.models import ApiToken

    backend = world.backend
    token = backend.create_token("odd-" + uuid.uuid4().hex[:6], "viewer")
    ApiToken.objects.filter(name__startswith="odd-").update(role="auditor")
    client = backend.client(token)
    with raises_rpc(grpc.StatusCode.PERMISSION_DENIED):
        READS["ImageService/Get"](client, world)


def test_health_and_reflection_need_no_token(world):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    channel = grpc.insecure_channel(world.backend.address)
    try:
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        channel.close()


# --- tokens at rest and in logs ------------------------------------------------------------------


def test_tokens_are_stored_only_as_hashes(world):
    from django.apps import apps

    backend = world.backend
    tokens = [backend.editor_token, backend.viewer_token, backend.create_token("hashed", "viewer")]
    for token in tokens:
        assert len(token) >= 32
    for model in apps.get_app_config("images").get_models():
        for row in model.objects.values_list():
            text = " ".join(str(value) for value in row)
            for token in tokens:
                assert token not in text, model.__name__
    if connection.vendor == "sqlite":
        from pathlib import Path

        database = Path(connection.settings_dict["NAME"])
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                content = path.read_bytes()
                for token in tokens:
                    assert token.encode() not in content, path


def test_tokens_never_appear_in_logs(world, caplog):
    backend = world.backend
    token = backend.create_token("logged-" + uuid.uuid4().hex[:6], "editor")
    unknown = "ism_" + uuid.uuid4().hex
    with caplog.at_level(logging.DEBUG):
        client = backend.client(token)
        for call in ALL.values():
            call(client, world)
        stranger = backend.client(unknown)
        for metadata in ([("authorization", f"Bearer {unknown}")], [("authorization", f"Basic {token}")]):
            stranger.metadata = lambda idempotency_key=None, m=metadata, **extra: list(m)
            with raises_rpc(grpc.StatusCode.UNAUTHENTICATED):
                READS["ImageService/Get"](stranger, world)
        viewer = backend.client(backend.viewer_token)
        with raises_rpc(grpc.StatusCode.PERMISSION_DENIED):
            WRITES["ImageService/Create"](viewer, world)
    text = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "rpc method=" in text  # the calls were logged
    for secret in (token, unknown, backend.viewer_token):
        assert secret not in text
        assert secret[4:20] not in text
