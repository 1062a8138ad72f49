"""Dashboard test fixtures (shared by tests/dashboard and tests/browser): users, their tokens, seeded images."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard import backend as backend_client
from dashboard import metrics
from dashboard.models import BackendAccount
from tests.conftest import running_backend

FOLDER = "test-folder"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def dashboard(backend, settings):
    """The backend fixture, with the dashboard's client pointed at it."""
    settings.IMAGESERVICE_BACKEND_ADDRESS = backend.address
    settings.IMAGESERVICE_DEFAULT_FOLDER = FOLDER
    backend_client.forget_extension_state()
    return backend


def make_user(backend, role: str, name: str | None = None) -> User:
    name = name or f"{role}-{uuid.uuid4().hex[:6]}"
    user = User.objects.create_user(username=name, password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    BackendAccount.objects.create(user=user, token=backend.create_token(name, role))
    return user


@pytest.fixture
def editor(dashboard) -> User:
    return make_user(dashboard, "editor", "erin")


@pytest.fixture
def viewer(dashboard) -> User:
    return make_user(dashboard, "viewer", "victor")


@pytest.fixture
def editor_client(editor) -> Client:
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(viewer) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


class Seeder:
    """Creates images through the API, as the editor, and waits until they are READY."""

    def __init__(self, backend):
        self.backend = backend
        self.api = backend.editor
        self.disk = backend.register_source("disk", FOLDER, 8 * 1024**3, product_ids=["p1"])

    def image(
        self, name: str = "", *, family: str = "", labels=None, description: str = "", wait=True
    ) -> str:
        from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
        from images.api.gen.yandex.cloud.compute.v1.image_service_pb2 import CreateImageMetadata

        request = image_service_pb2.CreateImageRequest(
            folder_id=FOLDER,
            name=name,
            family=family,
            labels=labels or {},
            description=description,
            disk_id=self.disk,
        )
        operation = self.api.call(self.api.images.Create, request)
        metadata = CreateImageMetadata()
        operation.metadata.Unpack(metadata)
        if wait:
            done = self.backend.wait_operation(operation.id)
            assert not done.HasField("error"), done.error
        return metadata.image_id


@pytest.fixture
def seed(dashboard) -> Seeder:
    return Seeder(dashboard)


def _calls_so_far() -> Counter:
    counts: Counter = Counter()
    for family in metrics.BACKEND_CALL_SECONDS.collect():
        for sample in family.samples:
            if sample.name.endswith("_count"):
                counts[sample.labels["rpc"].rsplit(".", 1)[-1]] += int(sample.value)
    return counts


@contextmanager
def backend_calls() -> Iterator[Counter]:
    """The gRPC calls the dashboard sends while the block runs, by method ("ImageService/List": 1),
    whatever their outcome: read off the counts its channel's interceptor keeps of every call."""
    calls: Counter = Counter()
    before = _calls_so_far()
    yield calls
    calls.update(_calls_so_far() - before)


@contextmanager
def older_server(settings, *, with_extension: bool) -> Iterator:
    """A second real server on the test database, as one from before ListImages (the extension
    without it) or from before the extension service, with the dashboard pointed at it."""
    from images.api.gen.imageservice.v1 import extension_pb2_grpc
    from images.grpc import server

    with pytest.MonkeyPatch.context() as patch:
        if with_extension:

            class BeforeListImages(server.ExtensionServicer):
                # The generated servicer's own answer to a method it was not given: UNIMPLEMENTED.
                ListImages = extension_pb2_grpc.ImageExtensionServiceServicer.ListImages

            patch.setattr(server, "ExtensionServicer", BeforeListImages)
        else:
            patch.setattr(
                server.extension_pb2_grpc, "add_ImageExtensionServiceServicer_to_server", lambda *args: None
            )
        with running_backend(workers=0) as handle:
            settings.IMAGESERVICE_BACKEND_ADDRESS = handle.address
            backend_client.forget_extension_state()
            yield handle
