"""An import that fails or is cancelled: the image's page says what happened and why."""

import functools
import http.server
import threading

import pytest

from dashboard import tray
from tests.dashboard.test_changes import CREATE, _session_request, create_form
from tests.dashboard.test_operation_durations import held  # noqa: F401 (a fixture)


@pytest.fixture
def empty_site(tmp_path, settings):
    """A real local HTTP server with nothing on it: every address answers 404."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_port}"]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_failed_import_shows_its_error_on_the_image_page_not_a_deletion(editor_client, seed, empty_site):
    data = create_form(source_kind="uri", uri=f"{empty_site}/missing.qcow2", name="web-1")
    response = editor_client.post(CREATE, data)
    assert response.status_code == 302
    operation = tray.entries(_session_request(editor_client))[0]
    done = seed.backend.wait_operation(operation.id)
    assert done.HasField("error")

    url = response["Location"]
    fragment = editor_client.get(url, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "Creating web-1 failed" in body and "has been deleted" not in body
    assert done.error.message in body
    assert 'id="alerts"' in body and "hx-swap-oob" in body  # the stale "Creating image" banner goes

    # The tray's link to the image: a page saying the same, not a bare 404 page.
    page = editor_client.get(url)
    assert page.status_code == 404
    assert "Creating web-1 failed" in page.content.decode() and done.error.message in page.content.decode()


def test_an_image_deleted_by_someone_else_still_reads_as_deleted(editor_client, seed):
    image_id = seed.image("web-1")
    api = seed.backend.editor
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2

    seed.backend.wait_operation(
        api.call(api.images.Delete, image_service_pb2.DeleteImageRequest(image_id=image_id)).id
    )
    fragment = editor_client.get(f"/images/{image_id}/", headers={"HX-Request": "true"})
    assert "This image has been deleted" in fragment.content.decode()
    assert editor_client.get(f"/images/{image_id}/").status_code == 404


def test_another_user_sees_why_an_import_failed_not_a_deletion(
    editor_client, viewer_client, seed, empty_site
):
    data = create_form(source_kind="uri", uri=f"{empty_site}/missing.qcow2", name="web-1")
    response = editor_client.post(CREATE, data)
    assert response.status_code == 302
    url = response["Location"]
    # The viewer had the page open while it was creating (its refresh names the folder).
    opened = viewer_client.get(url).content.decode()
    assert f'hx-get="{url}?folder=test-folder"' in opened
    done = seed.backend.wait_operation(tray.entries(_session_request(editor_client))[0].id)
    assert done.HasField("error")

    fragment = viewer_client.get(f"{url}?folder=test-folder", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "Creating this image failed" in body and "has been deleted" not in body
    assert done.error.message in body
    # A link opened later (the folder is the viewer's current one): the same, on a 404 page.
    page = viewer_client.get(url)
    assert page.status_code == 404
    assert (
        "Creating this image failed" in page.content.decode() and done.error.message in page.content.decode()
    )


def test_another_user_sees_that_an_import_was_cancelled(
    held,  # noqa: F811
    editor_client,
    viewer_client,
    seed,
):
    data = create_form(source_kind="uri", uri=held.url("/gate/disk.raw"), name="web-2")
    response = editor_client.post(CREATE, data)
    assert response.status_code == 302
    url = response["Location"]
    operation_id = tray.entries(_session_request(editor_client))[0].id
    assert editor_client.post(f"/operations/{operation_id}/cancel").status_code == 302
    done = seed.backend.wait_operation(operation_id)
    assert done.HasField("error")

    fragment = viewer_client.get(f"{url}?folder=test-folder", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "Creating this image was cancelled" in body and "has been deleted" not in body
