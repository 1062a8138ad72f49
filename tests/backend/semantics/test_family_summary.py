"""ListFamilies reads the family summary, which every image change keeps true in its own
transaction: create, READY, update, delete, cancel and rollback, by the worker or recovery's batch."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from tests.backend.semantics.helpers import FOLDER, cancel, delete, update
from tests.backend.support import create_ready, image_id_of, run_pending, start_create


def families_via_api(client, folder_id: str = FOLDER) -> list[tuple]:
    """Every family as ListFamilies answers it, a page of two at a time."""
    stub = extension_pb2_grpc.ImageExtensionServiceStub(client.channel)
    families, token = [], ""
    while True:
        page = client.call(
            stub.ListFamilies,
            extension_pb2.ListFamiliesRequest(folder_id=folder_id, page_size=2, page_token=token),
        )
        families += [
            (
                family.name,
                family.image_count,
                family.last_change_at.ToDatetime(dt.UTC),
                family.latest_image.id if family.HasField("latest_image") else "",
            )
            for family in page.families
        ]
        token = page.next_page_token
        if not token:
            return families


def families_in_images(folder_id: str = FOLDER) -> list[tuple]:
    """The same, computed from the images themselves."""
    from django.db.models import Count, Max

    from images.store.models import Image, ImageStatus

    groups = (
        Image.objects.filter(folder_id=folder_id)
        .exclude(family="")
        .values("family")
        .annotate(count=Count("id"), last=Max("created_at"))
        .order_by("family")
    )
    truth = []
    for group in groups:
        latest = (
            Image.objects.filter(folder_id=folder_id, family=group["family"], status=ImageStatus.READY)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)
            .first()
        )
        truth.append((group["family"], group["count"], group["last"].replace(microsecond=0), latest or ""))
    return truth


def assert_summary_true(client, folder_id: str = FOLDER) -> list[tuple]:
    answered = [
        (name, count, last.replace(microsecond=0), latest)
        for name, count, last, latest in families_via_api(client, folder_id)
    ]
    assert answered == families_in_images(folder_id)
    return answered


def test_summary_follows_every_change_finished_by_recovery_batches(paused_backend):
    backend = paused_backend
    client = backend.editor
    first = start_create(client, backend, FOLDER, name="web-1", family="web")
    start_create(client, backend, FOLDER, name="db-1", family="dbs")
    start_create(client, backend, "other-folder", name="web-1", family="web")
    assert [(name, count, latest) for name, count, _, latest in assert_summary_true(client)] == [
        ("dbs", 1, ""),  # CREATING: counted, not latest
        ("web", 1, ""),
    ]
    run_pending(backend)  # the batch path of recovery (finish_many_locked)
    web_1 = image_id_of(first)
    assert assert_summary_true(client)[1][3] == web_1

    second = start_create(client, backend, FOLDER, name="web-2", family="web")
    assert_summary_true(client)
    run_pending(backend)
    web_2 = image_id_of(second)
    assert assert_summary_true(client)[1][1:4:2] == (2, web_2)

    # A cancelled create rolls back: the family is as before.
    doomed = start_create(client, backend, FOLDER, name="web-3", family="web")
    cancel(client, doomed.id)
    assert assert_summary_true(client)[1][1:4:2] == (2, web_2)
    # A create into a new family, cancelled: the family never shows.
    lone = start_create(client, backend, FOLDER, name="lone-1", family="lone")
    assert [name for name, *_ in assert_summary_true(client)] == ["dbs", "lone", "web"]
    cancel(client, lone.id)
    assert [name for name, *_ in assert_summary_true(client)] == ["dbs", "web"]

    # A pending delete hides the latest (DELETING); cancelling it brings it back.
    removal = delete(client, web_2)
    assert assert_summary_true(client)[1][1:4:2] == (2, web_1)
    cancel(client, removal.id)
    assert assert_summary_true(client)[1][1:4:2] == (2, web_2)

    # An update leaves the summary as it is; a finished delete moves latest and count back.
    update(client, web_2, paths=["description"], description="changed")
    run_pending(backend)
    delete(client, web_2)
    run_pending(backend)
    assert assert_summary_true(client)[1][1:4:2] == (1, web_1)
    delete(client, web_1)
    run_pending(backend)
    assert [name for name, *_ in assert_summary_true(client)] == ["dbs"]
    assert [name for name, *_ in assert_summary_true(client, "other-folder")] == ["web"]


def test_summary_follows_images_the_worker_creates_and_deletes(backend):
    client = backend.editor
    images = [create_ready(client, backend, FOLDER, name=f"app-{index}", family="app") for index in range(3)]
    assert assert_summary_true(client)[0][1:4:2] == (3, images[-1].id)
    client.wait(delete(client, images[-1].id).id)
    assert assert_summary_true(client)[0][1:4:2] == (2, images[1].id)
    for image in images[:2]:
        client.wait(delete(client, image.id).id)
    assert assert_summary_true(client) == []


def test_list_families_answers_only_the_named_families_with_their_latest(backend):
    client = backend.editor
    web_1 = create_ready(client, backend, FOLDER, name="web-1", family="web").id
    web_2 = create_ready(client, backend, FOLDER, name="web-2", family="web").id
    create_ready(client, backend, FOLDER, name="db-1", family="dbs")
    app_1 = create_ready(client, backend, FOLDER, name="app-1", family="app").id
    stub = extension_pb2_grpc.ImageExtensionServiceStub(client.channel)

    def named(*families: str, token: str = "", size: int = 0):
        return client.call(
            stub.ListFamilies,
            extension_pb2.ListFamiliesRequest(
                folder_id=FOLDER, families=list(families), page_size=size, page_token=token
            ),
        )

    page = named("web", "app", "missing")
    assert [(f.name, f.latest_image.id) for f in page.families] == [("app", app_1), ("web", web_2)]
    assert web_1 != web_2
    # Paging stays within the names, and a token is bound to them.
    first = named("web", "app", size=1)
    assert [f.name for f in first.families] == ["app"] and first.next_page_token
    assert [f.name for f in named("web", "app", token=first.next_page_token, size=1).families] == ["web"]
    with pytest.raises(grpc.RpcError) as error:
        named("web", "dbs", token=first.next_page_token, size=1)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
