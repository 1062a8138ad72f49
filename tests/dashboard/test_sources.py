"""Source pickers on Create, "latest of family" as a source, and the read-only disk and snapshot
pages with "Create image from this", against the real backend."""

from __future__ import annotations

import html
import re

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
from tests.dashboard.fixtures import FOLDER
from tests.dashboard.test_changes import CREATE, create_form

GIB = 1024**3


PICKER = f"/f/{FOLDER}/images/new/sources"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _picked(body: str) -> list[str]:
    return re.findall(r'data-pick="([^"]+)"', body)


def test_create_page_asks_the_backend_nothing_for_its_picker(editor_client, seed, monkeypatch):
    from dashboard.backend import Backend

    calls = []
    for method in ("list_disks", "list_snapshots", "list_images"):
        original = getattr(Backend, method)
        monkeypatch.setattr(
            Backend,
            method,
            lambda self, *a, _m=method, _o=original, **k: calls.append(_m) or _o(self, *a, **k),
        )
    page = editor_client.get(CREATE).content.decode()
    assert calls == []
    assert 'role="combobox"' in page and 'aria-controls="source-listbox"' in page
    assert f'hx-get="{PICKER}"' in page and "source-options" not in page


def test_the_picker_searches_the_api_by_name_for_the_chosen_kind(editor_client, seed):
    backend = seed.backend
    data = backend.register_source("disk", FOLDER, 20 * GIB, name="data-disk", labels={"env": "prod"})
    other = backend.register_source("disk", FOLDER, 2 * GIB, name="scratch")
    snapshot = backend.register_source("snapshot", FOLDER, 3 * GIB, name="nightly-data")
    backend.register_source("disk", "folder-elsewhere", GIB, name="data-not-here")
    image = seed.image("base-image")
    body = editor_client.get(PICKER, {"source_kind": "disk_id", "source_id": "DATA"}, **HTMX).content.decode()
    assert _picked(body) == [data]
    assert (
        "data-disk" in body and "20 GiB" in body and "1 disks with “DATA” in the name" in html.unescape(body)
    )
    body = editor_client.get(PICKER, {"source_kind": "disk_id", "source_id": ""}, **HTMX).content.decode()
    assert set(_picked(body)) == {data, other, seed.disk}  # on focus: the newest of the kind
    body = editor_client.get(
        PICKER, {"source_kind": "snapshot_id", "source_id": "data"}, **HTMX
    ).content.decode()
    assert _picked(body) == [snapshot]
    body = editor_client.get(
        PICKER, {"source_kind": "image_id", "source_id": "base"}, **HTMX
    ).content.decode()
    assert _picked(body) == [image] and "Linux" in body
    body = editor_client.get(PICKER, {"source_kind": "disk_id", "source_id": "zzz"}, **HTMX).content.decode()
    assert _picked(body) == [] and "hidden" in body and "type an ID" in body
    body = editor_client.get(PICKER, {"source_kind": "uri", "source_id": "x"}, **HTMX).content.decode()
    assert _picked(body) == []


def test_the_picker_is_for_signed_in_people_only(client, dashboard):
    assert client.get(PICKER, {"source_kind": "disk_id"})["Location"].startswith("/login/")


def test_create_from_a_picked_snapshot(editor_client, seed):
    snapshot = seed.backend.register_source("snapshot", FOLDER, 3 * GIB, name="nightly")
    response = editor_client.post(
        CREATE,
        create_form(source_kind="snapshot_id", source_id=snapshot, name="from-snap", min_disk_size_1="GiB"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_latest_of_family_resolves_at_submit_and_says_which_image_it_took(editor_client, seed):
    seed.image("base-v1", family="base")
    newest = seed.image("base-v2", family="base")
    response = editor_client.post(
        CREATE, create_form(source_kind="family", source_id="base", name="derived"), follow=True
    )
    page = html.unescape(response.content.decode())
    assert f"Creating image derived from base-v2 ({newest}), the latest image of family base." in page
    api = seed.backend.editor
    listed = api.call(
        api.images.List, image_service_pb2.ListImagesRequest(folder_id=FOLDER, filter='name = "derived"')
    ).images
    assert len(listed) == 1


def test_latest_of_a_family_without_ready_images_is_a_field_error(editor_client, seed):
    response = editor_client.post(CREATE, create_form(source_kind="family", source_id="nosuch", name="x"))
    assert response.status_code == 400
    assert "Family “nosuch” has no READY image in this folder." in response.content.decode()


def test_latest_of_family_checks_the_family_rule(editor_client, seed):
    response = editor_client.post(CREATE, create_form(source_kind="family", source_id="Bad!", name="x"))
    assert response.status_code == 400
    assert 'id="field-source_id"' in response.content.decode()


def test_typing_any_id_still_works(editor_client, seed):
    response = editor_client.post(CREATE, create_form(source_id=seed.disk, name="typed"))
    assert response.status_code == 302


def test_disk_and_snapshot_pages_list_the_folders_sources_read_only(viewer_client, seed):
    backend = seed.backend
    disk = backend.register_source("disk", FOLDER, 20 * GIB, name="data-disk", labels={"env": "prod"})
    snapshot = backend.register_source("snapshot", FOLDER, 3 * GIB, name="nightly")
    disks = viewer_client.get(f"/f/{FOLDER}/disks/").content.decode()
    assert disk in disks and "data-disk" in disks and snapshot not in disks
    assert '<span class="chip-key">env</span>' in disks
    assert "Create image from this" not in disks  # a viewer cannot create
    assert 'aria-current="page">Disks' in disks
    snapshots = viewer_client.get(f"/f/{FOLDER}/snapshots/").content.decode()
    assert snapshot in snapshots and disk not in snapshots


def test_create_image_from_this_opens_create_with_the_source_filled_in(editor_client, seed):
    snapshot = seed.backend.register_source("snapshot", FOLDER, 3 * GIB, name="nightly")
    page = html.unescape(editor_client.get(f"/f/{FOLDER}/snapshots/").content.decode())
    link = re.search(r'href="([^"]+)">Create image from this', page)[1]
    assert link == f"{CREATE}?source_kind=snapshot_id&source_id={snapshot}"
    form = editor_client.get(link).content.decode()
    assert re.search(
        rf'value="{snapshot}"[^>]*name="source_id"|name="source_id"[^>]*value="{snapshot}"', form
    )
    assert re.search(r'value="snapshot_id"[^>]*checked|checked[^>]*value="snapshot_id"', form)


def test_source_pages_page_through_many_sources(viewer_client, seed):
    for index in range(55):
        seed.backend.register_source("disk", FOLDER, GIB, name=f"disk-{index:02d}")
    # Name order: the seed's unnamed disk first, then disk-00 to disk-48 on the first page of 50.
    first = viewer_client.get(f"/f/{FOLDER}/disks/").content.decode()
    assert "disk-00" in first and "disk-48" in first and "disk-49" not in first
    next_url = html.unescape(re.search(r'rel="next" href="([^"]+)"', first)[1])
    second = viewer_client.get(next_url).content.decode()
    assert "disk-49" in second and "disk-54" in second and "disk-00" not in second
