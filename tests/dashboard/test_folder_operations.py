"""The folder's operations page: everyone's operations, filters, pages, one poll with backoff while any
runs, Cancel for editors, and the nav's running count fetched after the page."""

from __future__ import annotations

import json
import threading

import pytest

from dashboard.backend import Backend
from dashboard.views import activity
from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
from images.importer.errors import DOWNLOAD_FAILED
from tests.backend.support import wait_until
from tests.dashboard.fixtures import FOLDER
from tests.importer.conftest import disk_images, image_server  # noqa: F401 (fixtures)

OPS = f"/f/{FOLDER}/operations/"
COUNT = f"/f/{FOLDER}/operations/running"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def files(settings, image_server):  # noqa: F811 (the imported fixture)
    """The local image server, allowlisted; its stalled downloads are released after the test."""
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{image_server.port}"]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    yield image_server
    image_server.release.set()
    image_server.release = threading.Event()


def start_import(backend, uri: str, name: str):
    api = backend.editor
    return api.call(
        api.images.Create, image_service_pb2.CreateImageRequest(folder_id=FOLDER, name=name, uri=uri)
    )


def bytes_done(backend, operation_id: str) -> int:
    api = backend.editor
    stub = extension_pb2_grpc.ImageExtensionServiceStub(api.channel)
    request = extension_pb2.BatchGetOperationsRequest(operation_ids=[operation_id])
    (found,) = api.call(stub.BatchGetOperations, request).operations
    return found.progress.bytes_done


def running_slow_import(backend, files, name: str = "slow"):
    """An import that has received 1 MiB of 6 and then waits until the test releases the server."""
    operation = start_import(backend, files.url("/slow/disk.raw"), name)
    wait_until(lambda: bytes_done(backend, operation.id) > 0, timeout=10, message="progress")
    return operation


def _operation_of(client, image_id: str) -> str:
    body = client.get(OPS).content.decode()
    marker = f"/images/{image_id}/"
    return body[: body.index(marker)].rsplit('id="op-', 1)[1].split('"')[0]


def _row(body: str, operation_id: str) -> str:
    start = body.index(f'id="op-{operation_id}"')
    return body[start : body.index("</tr>", start)]


def test_a_viewer_sees_everyones_operations_with_who_what_status_and_the_error(files, viewer_client, seed):
    image = seed.image("web-1")
    failed = start_import(seed.backend, files.url("/status/404"), "broken")
    seed.backend.wait_operation(failed.id)
    body = viewer_client.get(OPS).content.decode()
    ops = body[body.index('id="folder-ops"') :]
    assert ops.count('id="op-') == 2
    assert ops.index(f'id="op-{failed.id}"') < ops.index(f"/images/{image}/")  # newest first
    row = _row(body, failed.id)
    assert ">failed</span>" in row and DOWNLOAD_FAILED in row and "Create image" in row
    assert "<td>editor-" in row and "Cancel" not in row  # who: the seeder's caller id
    assert ">done</span>" in _row(body, _operation_of(viewer_client, image))
    assert 'hx-trigger="every' not in body  # nothing runs: no poll


def test_status_and_user_filters_reach_the_api_and_stay_in_the_url(files, viewer_client, seed):
    seed.image("web-1")
    failed = start_import(seed.backend, files.url("/status/404"), "broken")
    seed.backend.wait_operation(failed.id)
    body = viewer_client.get(OPS, {"status": "failed"}).content.decode()
    assert body.count('id="op-') == 1 and failed.id in body
    assert '<option value="failed" selected>' in body
    assert viewer_client.get(OPS, {"status": "running"}).content.decode().count('id="op-') == 0
    assert "No operations match these filters" in viewer_client.get(OPS, {"user": "nobody"}).content.decode()
    response = viewer_client.get(
        OPS, {"status": "done", "user": ""}, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="operation-filters"
    )
    assert response["HX-Push-Url"] == OPS + "?status=done"
    assert b"<html" not in response.content and b'id="folder-ops"' in response.content


def test_a_running_import_shows_its_progress_and_the_page_polls_with_backoff_until_it_ends(
    files, viewer_client, seed
):
    operation = running_slow_import(seed.backend, files)
    body = viewer_client.get(OPS).content.decode()
    row = _row(body, operation.id)
    assert ">running</span>" in row and "<progress" in row and "1 MiB of 6 MiB" in row
    assert "Cancel" not in row  # viewers do not cancel
    assert 'hx-trigger="every 1s"' in body and "wait=1" in body
    waits = []
    for wait in ("1", "2", "16", "30"):
        polled = viewer_client.get(OPS, {"wait": wait}, **HTMX)
        assert polled.status_code == 200 and b"<html" not in polled.content
        waits.append(polled.content.decode().split('hx-trigger="every ')[1].split("s")[0])
    assert waits == ["2", "4", "30", "30"]
    files.release.set()  # the download ends short: the import fails
    seed.backend.wait_operation(operation.id)
    ended = viewer_client.get(OPS, {"wait": "4"}, **HTMX)
    assert ended.status_code == 286
    assert 'hx-trigger="every' not in ended.content.decode()
    assert ">failed</span>" in _row(ended.content.decode(), operation.id)


def test_an_editor_cancels_from_the_page(files, editor_client, seed):
    operation = running_slow_import(seed.backend, files)
    body = editor_client.get(OPS).content.decode()
    assert f'action="/operations/{operation.id}/cancel"' in _row(body, operation.id)
    response = editor_client.post(f"/operations/{operation.id}/cancel", {"next": OPS}, **HTMX)
    assert "operations-changed" in json.loads(response["HX-Trigger"])
    seed.backend.wait_operation(operation.id)
    assert ">cancelled</span>" in _row(editor_client.get(OPS).content.decode(), operation.id)


def test_cancel_without_javascript_goes_back_to_the_page(files, editor_client, seed):
    operation = running_slow_import(seed.backend, files)
    response = editor_client.post(f"/operations/{operation.id}/cancel", {"next": OPS + "?status=running"})
    assert response.status_code == 302 and response["Location"] == OPS + "?status=running"
    assert seed.backend.wait_operation(operation.id).error.code == 1  # CANCELLED


def test_viewers_cannot_cancel(files, viewer_client, seed):
    operation = running_slow_import(seed.backend, files)
    assert viewer_client.post(f"/operations/{operation.id}/cancel", {"next": OPS}).status_code == 403


def test_operations_page_through_the_one_pager(viewer_client, seed, monkeypatch):
    monkeypatch.setattr(activity, "PAGE_SIZE", 2)
    for index in range(5):
        seed.image(f"img-{index}")
    first = viewer_client.get(OPS).content.decode()
    assert first.count('id="op-') == 2 and "Page 1" in first
    next_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = viewer_client.get(next_url, **HTMX).content.decode()
    assert second.count('id="op-') == 2 and "Page 2" in second and 'rel="prev"' in second
    assert not set(second.split('id="op-')[1:]) & set(first.split('id="op-')[1:])


def test_the_nav_count_is_fetched_after_the_page_not_during_it(files, editor_client, seed, monkeypatch):
    running_slow_import(seed.backend, files)
    calls = []
    original = Backend.list_folder_operations

    def counting(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Backend, "list_folder_operations", counting)
    page = editor_client.get(f"/f/{FOLDER}/images/").content.decode()
    assert calls == []
    assert f'href="{OPS}"' in page and f'hx-get="{COUNT}" hx-trigger="load"' in page
    count = editor_client.get(COUNT, **HTMX)
    assert count.content.decode() == '<span class="nav-count">1 running</span>'
    assert calls[0]["status"] == "running"
    assert editor_client.get(COUNT)["Location"] == OPS + "?status=running"  # without JavaScript


def test_the_nav_count_is_empty_when_nothing_runs(editor_client, seed):
    seed.image("web-1")
    assert editor_client.get(COUNT, **HTMX).content == b""
