"""Sign-in, roles, CSRF, CSP, escaping, secrets and the backend being down."""

import pytest
from django.test import Client

from dashboard.models import BackendAccount
from tests.dashboard.fixtures import FOLDER, PASSWORD

MUTATIONS = [
    ("get", f"/f/{FOLDER}/images/new"),
    ("post", f"/f/{FOLDER}/images/new"),
    ("post", f"/f/{FOLDER}/images/bulk-delete"),
    ("get", "/images/{image}/edit"),
    ("post", "/images/{image}/edit"),
    ("get", "/images/{image}/delete"),
    ("post", "/images/{image}/delete"),
    ("post", "/operations/op-any/cancel"),
]


@pytest.mark.parametrize(("method", "path"), MUTATIONS)
def test_viewer_gets_403_on_every_mutating_endpoint(viewer_client, seed, method, path):
    image_id = seed.image("keep-me")
    data = {
        "ids": [image_id],
        "step": "delete",
        "source_kind": "disk_id",
        "source_id": seed.disk,
        "name": "x",
    }
    response = getattr(viewer_client, method)(path.format(image=image_id), data)
    assert response.status_code == 403
    assert b"<html" in response.content


def test_viewer_sees_no_mutating_controls(viewer_client, seed):
    image_id = seed.image("web-1")
    body = viewer_client.get(f"/f/{FOLDER}/images/").content.decode()
    assert "Create image" not in body and "Delete selected" not in body
    detail = viewer_client.get(f"/images/{image_id}/").content.decode()
    assert "/edit" not in detail and "/delete" not in detail
    assert 'class="role role-viewer"' in detail


@pytest.mark.parametrize("path", ["/", f"/f/{FOLDER}/images/", "/operations/", "/images/x/"])
def test_every_page_needs_a_login(dashboard, path):
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_csrf_is_enforced_on_mutations_including_htmx(editor, seed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    image_id = seed.image("web-1")
    assert client.post(f"/images/{image_id}/delete").status_code == 403
    assert client.post(f"/images/{image_id}/delete", HTTP_HX_REQUEST="true").status_code == 403
    page = client.get(f"/images/{image_id}/delete")
    token = page.cookies["csrftoken"].value
    body = page.content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    response = client.post(f"/images/{image_id}/delete", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 302


def test_pages_carry_a_csp_without_unsafe_inline_or_eval(editor_client, seed):
    response = editor_client.get(f"/f/{FOLDER}/images/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    body = response.content.decode()
    assert "<script>" not in body and " style=" not in body and " on" + "click=" not in body
    assert '"allowEval":false' in body and '"includeIndicatorStyles":false' in body


def test_backend_token_never_reaches_a_page(editor, editor_client, seed):
    token = BackendAccount.objects.get(user=editor).token
    image_id = seed.image("web-1")
    for path in (
        f"/f/{FOLDER}/images/",
        f"/images/{image_id}/",
        f"/images/{image_id}/edit",
        f"/f/{FOLDER}/families/",
    ):
        assert token.encode() not in editor_client.get(path).content


def test_xss_in_descriptions_labels_and_errors_is_escaped(editor_client, seed):
    image_id = seed.image("web-1", description="<script>alert(1)</script>", labels={"k": "v"})
    body = editor_client.get(f"/images/{image_id}/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    missing = editor_client.get("/images/<b>x</b>/")
    assert b"<b>x</b>" not in missing.content


def test_backend_down_shows_a_clear_message_not_a_500(editor_client, settings):
    settings.IMAGESERVICE_BACKEND_ADDRESS = "127.0.0.1:9"
    settings.IMAGESERVICE_BACKEND_TIMEOUT = 1
    response = editor_client.get(f"/f/{FOLDER}/images/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "not reachable" in body and "127.0.0.1:9" not in body and "Traceback" not in body
    fragment = editor_client.get(f"/f/{FOLDER}/images/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 503 and fragment["HX-Retarget"] == "#alerts"


def test_missing_image_is_a_404_page(editor_client, dashboard):
    response = editor_client.get("/images/fd8nosuchimage000000/")
    assert response.status_code == 404 and b"not found" in response.content


def test_login_throttles_after_repeated_failures(editor, settings):
    settings.DASHBOARD_LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        assert client.post("/login/", {"username": editor.username, "password": "wrong"}).status_code == 400
    locked = client.post("/login/", {"username": editor.username, "password": PASSWORD})
    assert locked.status_code == 429 and b"Try again in" in locked.content
    assert "_auth_user_id" not in client.session


def test_login_with_the_right_password_signs_in(editor):
    client = Client()
    response = client.post(
        "/login/", {"username": editor.username, "password": PASSWORD, "next": "//evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_user_without_a_backend_token_gets_a_clear_403(editor, editor_client):
    BackendAccount.objects.filter(user=editor).delete()
    response = editor_client.get(f"/f/{FOLDER}/images/")
    assert response.status_code == 403 and b"no API token" in response.content


def test_a_failed_htmx_request_leaves_the_address_bar_alone(editor_client, settings):
    settings.IMAGESERVICE_BACKEND_ADDRESS = "127.0.0.1:9"
    settings.IMAGESERVICE_BACKEND_TIMEOUT = 1
    sort = editor_client.get(f"/f/{FOLDER}/images/?sort=name", HTTP_HX_REQUEST="true")
    assert sort.status_code == 503 and sort["HX-Push-Url"] == "false"
    assert "data-backend-alert" in sort.content.decode()
