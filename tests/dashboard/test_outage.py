"""Create, Edit and Delete while the backend is stopped: the form comes back, the retry does it once."""

import re
import time

import pytest

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
from tests.dashboard.fixtures import FOLDER
from tests.dashboard.test_changes import CREATE, create_form, edit_form, get_image

UNREACHABLE = "The image service is not reachable"


@pytest.fixture
def outage(dashboard):
    """stop() and restart() the real backend; the restarted server listens on the same port."""
    from images.grpc.server import build_server

    class Outage:
        stopped = False

        def stop(self):
            dashboard.server.stop(grace=0)
            self.stopped = True

        def restart(self):
            server = build_server(
                host="127.0.0.1", port=dashboard.server.port, workers=2, tls_cert="", tls_key=""
            )
            server.start()
            dashboard.server = server  # the backend fixture stops it at the end
            self.stopped = False

    outage = Outage()
    yield outage
    if outage.stopped:
        outage.restart()


def _until_answered(post, timeout: float = 15.0):
    """Resubmits (same form, same idempotency key) until the backend answers: the channel reconnects
    after its backoff, so the first retries may still find it unreachable."""
    deadline = time.monotonic() + timeout
    while True:
        response = post()
        if response.status_code != 503:
            return response
        assert time.monotonic() < deadline, "the backend did not come back"
        time.sleep(0.05)


def _images_named(backend, name: str) -> list:
    api = backend.editor
    request = image_service_pb2.ListImagesRequest(folder_id=FOLDER, filter=f'name = "{name}"')
    return list(api.call(api.images.List, request).images)


def test_create_while_the_backend_is_down_keeps_the_form_and_the_retry_creates_one_image(
    editor_client, seed, outage
):
    opened = editor_client.get(CREATE).content.decode()
    key = re.search(r'name="idempotency_key" value="(\w+)"', opened).group(1)
    data = create_form(source_id=seed.disk, name="web-1", description="Kept", idempotency_key=key)
    outage.stop()
    response = editor_client.post(CREATE, data)
    assert response.status_code == 503
    body = response.content.decode()
    assert UNREACHABLE in body and 'id="field-name"' in body
    assert 'value="web-1"' in body and "Kept</textarea>" in body and f'value="{key}"' in body

    outage.restart()
    answered = _until_answered(lambda: editor_client.post(CREATE, data))
    assert answered.status_code == 302
    assert editor_client.post(CREATE, data).status_code == 302  # a double submit after that: same image
    assert len(_images_named(seed.backend, "web-1")) == 1


def test_edit_and_delete_while_the_backend_is_down_keep_the_form(editor_client, seed, outage):
    image_id = seed.image("web-1")
    url = f"/images/{image_id}/edit"
    data = edit_form(editor_client.get(url).content.decode(), name="web-2")
    delete_page = editor_client.get(f"/images/{image_id}/delete").content.decode()
    delete_key = re.search(r'name="idempotency_key" value="(\w+)"', delete_page).group(1)
    outage.stop()

    for path in (url, f"{url}/save"):
        response = editor_client.post(path, data)
        assert response.status_code == 503
        body = response.content.decode()
        assert UNREACHABLE in body and 'value="web-2"' in body and 'id="edit-form"' in body
    deleting = editor_client.post(f"/images/{image_id}/delete", {"idempotency_key": delete_key})
    assert deleting.status_code == 503
    assert UNREACHABLE in deleting.content.decode() and f'value="{delete_key}"' in deleting.content.decode()

    outage.restart()
    assert _until_answered(lambda: editor_client.post(f"{url}/save", data)).status_code == 302
    assert _until_answered(lambda: editor_client.get(f"/images/{image_id}/")).status_code == 200
    seed.backend.wait_operation(
        seed.backend.editor.call(
            seed.backend.editor.images.ListOperations,
            image_service_pb2.ListImageOperationsRequest(image_id=image_id),
        )
        .operations[0]
        .id
    )
    assert get_image(seed.backend, image_id).name == "web-2"
    deleted = editor_client.post(f"/images/{image_id}/delete", {"idempotency_key": delete_key})
    assert deleted.status_code == 302
