"""The operations tray: polling only while something runs, 286 when idle, Cancel, page refresh events."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard import context_processors, tray
from tests.dashboard.fixtures import FOLDER

TRAY = "/operations/"
HTMX = {"HTTP_HX_REQUEST": "true"}


class _Session:
    def __init__(self, client):
        self.session = client.session


def test_idle_tray_answers_286(editor_client, dashboard):
    response = editor_client.get(TRAY, **HTMX)
    assert response.status_code == 286
    assert b'hx-trigger="every 1s"' not in response.content


def test_page_without_running_operations_does_not_poll(editor_client, seed):
    body = editor_client.get(f"/f/{FOLDER}/images/").content.decode()
    assert 'hx-trigger="every 1s"' not in body


def test_finished_operation_stops_polling_and_tells_pages_to_refresh(editor_client, seed):
    response = editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "disk_id", "source_id": seed.disk, "name": "web-1", "min_disk_size_1": "GiB"},
    )
    assert response.status_code == 302
    operation = tray.entries(_Session(editor_client))[0]
    assert operation.running  # as Create returned it
    seed.backend.wait_operation(operation.id)
    polled = editor_client.get(TRAY, **HTMX)
    assert polled.status_code == 286
    assert json.loads(polled["HX-Trigger"]) == {"images-changed": {}}
    assert b"done" in polled.content and b"web-1" in polled.content
    again = editor_client.get(TRAY, **HTMX)
    assert again.status_code == 286 and "HX-Trigger" not in again


@pytest.fixture
def stalled_import(settings):
    """A local HTTP server that does not answer until released: keeps an import running."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            release.wait(20)  # answer nothing until the test is over

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [host]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    yield f"http://{host}/disk.raw?X-Signature=topsecret"
    release.set()
    server.shutdown()
    server.server_close()


def test_running_operation_keeps_polling_and_can_be_cancelled(editor_client, dashboard, stalled_import):
    response = editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "uri", "uri": stalled_import, "name": "slow", "min_disk_size_1": "GiB"},
    )
    assert response.status_code == 302
    polled = editor_client.get(TRAY, **HTMX)
    assert polled.status_code == 200
    body = polled.content.decode()
    assert 'hx-trigger="every 1s"' in body and "running" in body and "topsecret" not in body
    operation = tray.entries(_Session(editor_client))[0]
    cancelled = editor_client.post(f"/operations/{operation.id}/cancel", **HTMX)
    assert cancelled.status_code in (200, 286)
    dashboard.wait_operation(operation.id)
    final = editor_client.get(TRAY, **HTMX)
    assert final.status_code == 286
    entry = tray.entries(_Session(editor_client))[0]
    assert entry.done and entry.state == "cancelled"
    assert "cancelled" in final.content.decode() and b"/cancel" not in final.content


def test_clear_removes_finished_operations(editor_client, seed):
    editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "disk_id", "source_id": seed.disk, "name": "web-1", "min_disk_size_1": "GiB"},
    )
    operation = tray.entries(_Session(editor_client))[0]
    seed.backend.wait_operation(operation.id)
    editor_client.get(TRAY, **HTMX)
    response = editor_client.post("/operations/clear", **HTMX)
    assert response.status_code == 286
    assert tray.entries(_Session(editor_client)) == []


def test_tray_keeps_polling_quietly_while_the_backend_is_down(
    editor_client, dashboard, stalled_import, settings
):
    editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "uri", "uri": stalled_import, "name": "slow", "min_disk_size_1": "GiB"},
    )
    settings.IMAGESERVICE_BACKEND_ADDRESS = "127.0.0.1:9"
    settings.IMAGESERVICE_BACKEND_TIMEOUT = 1
    polled = editor_client.get(TRAY, **HTMX)
    assert polled.status_code == 200
    assert "HX-Retarget" not in polled
    body = polled.content.decode()
    assert "not reachable" in body and 'hx-trigger="every 1s"' in body


def test_operations_the_server_no_longer_knows_leave_the_tray(editor_client, dashboard):
    session = editor_client.session
    session[tray.SESSION_KEY] = [
        {
            "id": "opunknown00000000000",
            "description": "Create image",
            "created_by": "x",
            "created_at": None,
            "modified_at": None,
            "done": False,
            "state": "running",
        }
    ]
    session.save()
    polled = editor_client.get(TRAY, **HTMX)
    assert polled.status_code == 286
    assert tray.entries(_Session(editor_client)) == []


def test_pages_read_the_tray_without_calling_the_backend_or_writing_the_session(
    editor_client, seed, monkeypatch
):
    from dashboard.backend import Backend

    editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "disk_id", "source_id": seed.disk, "name": "web-1", "min_disk_size_1": "GiB"},
    )
    operation = tray.entries(_Session(editor_client))[0]
    seed.backend.wait_operation(operation.id)
    session = editor_client.session
    session[tray.SESSION_KEY][0]["created_at"] = "2020-01-01T00:00:00+00:00"  # long running
    session.save()
    editor_client.get(f"/f/{FOLDER}/images/")  # the folder is remembered once
    monkeypatch.setattr(context_processors.tray, "refresh", lambda *a: pytest.fail("tray refreshed"))
    monkeypatch.setattr(Backend, "batch_get_operations", lambda *a: pytest.fail("backend called"))
    before = editor_client.session.session_key, dict(editor_client.session)
    page = editor_client.get(f"/f/{FOLDER}/images/")
    assert page.status_code == 200 and 'hx-trigger="every 1s"' in page.content.decode()
    assert (editor_client.session.session_key, dict(editor_client.session)) == before


def test_without_javascript_the_tray_refreshes_through_its_own_link(editor_client, seed):
    editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "disk_id", "source_id": seed.disk, "name": "web-1", "min_disk_size_1": "GiB"},
    )
    operation = tray.entries(_Session(editor_client))[0]
    seed.backend.wait_operation(operation.id)
    page = editor_client.get(f"/f/{FOLDER}/images/").content.decode()
    assert f'href="{TRAY}?next=/f/{FOLDER}/images/"' in page
    back = editor_client.get(TRAY, {"next": f"/f/{FOLDER}/images/"})
    assert back.status_code == 302 and back["Location"] == f"/f/{FOLDER}/images/"
    assert tray.entries(_Session(editor_client))[0].state == "done"
    assert 'hx-trigger="every 1s"' not in editor_client.get(back["Location"]).content.decode()


def _watch_url(body: str) -> str:
    import re

    match = re.search(r'class="watch" hidden hx-get="([^"]+)" hx-trigger="every (\d+)s"', body)
    assert match, "the page does not poll"
    return match.group(1).replace("&amp;", "&")


def test_every_viewer_of_an_image_in_transition_gets_one_backing_off_poll(
    editor_client, viewer_client, dashboard, stalled_import
):
    editor_client.post(
        f"/f/{FOLDER}/images/new",
        {"source_kind": "uri", "uri": stalled_import, "name": "slow", "min_disk_size_1": "GiB"},
    )
    operation = tray.entries(_Session(editor_client))[0]
    page = viewer_client.get(f"/f/{FOLDER}/images/").content.decode()
    assert page.count('class="watch"') == 1
    url = _watch_url(page)
    assert f"image={operation.image_id}%3ACREATING" in url
    waits = []
    for _ in range(7):
        polled = viewer_client.get(url, **HTMX)
        assert polled.status_code == 200 and "HX-Trigger" not in polled
        url = _watch_url(polled.content.decode())
        waits.append(int(url.rpartition("wait=")[2]))
    assert waits == [2, 4, 8, 16, 30, 30, 30]
    detail = viewer_client.get(f"/images/{operation.image_id}/").content.decode()
    assert "running for" in detail and _watch_url(detail)
    editor_client.post(f"/operations/{operation.id}/cancel", **HTMX)
    dashboard.wait_operation(operation.id)
    gone = viewer_client.get(url, **HTMX)
    assert gone.status_code == 286
    assert json.loads(gone["HX-Trigger"]) == {"images-changed": {}}


def test_pages_with_nothing_in_transition_do_not_poll_and_a_stale_poll_stops(viewer_client, seed):
    image_id = seed.image("web-1")
    assert 'class="watch"' not in viewer_client.get(f"/f/{FOLDER}/images/").content.decode()
    assert 'class="watch"' not in viewer_client.get(f"/images/{image_id}/").content.decode()
    stale = viewer_client.get(
        "/images/watch", {"folder": FOLDER, "image": f"{image_id}:CREATING", "wait": "4"}, **HTMX
    )
    assert stale.status_code == 286 and "images-changed" in stale["HX-Trigger"]
    assert viewer_client.get("/images/watch", {"folder": FOLDER}, **HTMX).status_code == 286
