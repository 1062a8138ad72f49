"""What a signed-in page may leave behind (caches) and what happens when the session is gone."""

import importlib
import sys

import pytest
from django.test import Client

from tests.dashboard.fixtures import FOLDER

SIGNED_IN_PAGES = [
    f"/f/{FOLDER}/images/",
    f"/f/{FOLDER}/images/new",
    f"/f/{FOLDER}/families/",
    "/images/{image}/",
    "/images/{image}/edit",
    "/images/{image}/delete",
    "/operations/",
]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_signed_in_pages_and_fragments_are_never_stored(editor_client, seed, path, htmx):
    image_id = seed.image("web-1")
    headers = {"HX-Request": "true"} if htmx else {}
    response = editor_client.get(path.format(image=image_id), headers=headers)
    # 286: the tray with nothing running; 302: the tray without JavaScript goes back to the page.
    assert response.status_code in (200, 286, 302)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_page_vary_keeps_both_htmx_and_the_session_cookie(editor_client, seed):
    response = editor_client.get(f"/f/{FOLDER}/images/")
    vary = {v.strip() for v in response["Vary"].split(",")}
    assert {"HX-Request", "Cookie"} <= vary


def test_production_settings_keep_the_no_store_middleware(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "k" * 64)
    sys.modules.pop("dashboard.settings_production", None)
    production = importlib.import_module("dashboard.settings_production")
    assert "dashboard.middleware.NoStoreMiddleware" in production.MIDDLEWARE
    assert "dashboard.middleware.LoginRequiredMiddleware" in production.MIDDLEWARE


def test_htmx_request_without_a_session_redirects_the_whole_page_back_to_where_it_was(dashboard):
    response = Client().get(
        f"/f/{FOLDER}/images/?name=web",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver/f/{FOLDER}/images/?sort=name"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/login/?next=/f/{FOLDER}/images/%3Fsort%3Dname"
    assert b"<form" not in response.content


def test_htmx_request_from_another_site_is_sent_to_the_login_page_without_a_next_elsewhere(dashboard):
    response = Client().get(
        "/operations/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    assert response["HX-Redirect"] == "/login/?next=/"


def test_plain_request_without_a_session_still_gets_a_redirect(dashboard):
    response = Client().get(f"/f/{FOLDER}/images/")
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/f/{FOLDER}/images/"
