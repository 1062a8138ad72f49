"""Per-person preferences and saved views: stored in the dashboard's database, honoured by the list."""

import datetime as dt
import re
from urllib.parse import urlparse

from django.test import Client

from dashboard import times
from dashboard.models import Preferences, SavedView
from tests.dashboard.fixtures import FOLDER, PASSWORD

LIST = f"/f/{FOLDER}/images/"


def _html_tag(body: str) -> str:
    return re.search(r"<html[^>]*>", body).group(0)


def test_preferences_page_saves_every_preference(editor, editor_client, seed):
    assert editor_client.get("/preferences/").status_code == 200
    response = editor_client.post(
        "/preferences/",
        {
            "theme": "dark",
            "page_size": "10",
            "visible_columns": ["status", "created"],
            "default_folder": "other",
        },
    )
    assert response.status_code == 302
    preferences = Preferences.objects.get(user=editor)
    assert (preferences.theme, preferences.page_size, preferences.default_folder) == ("dark", 10, "other")
    assert set(preferences.hidden_columns) == {"family", "size", "min_disk", "os", "labels"}
    body = editor_client.get("/preferences/").content.decode()
    assert re.search(r'name="theme" value="dark"[^>]*checked', body)


def test_preferences_page_refuses_a_bad_folder_and_keeps_what_was_saved(editor, editor_client, seed):
    response = editor_client.post("/preferences/", {"theme": "light", "default_folder": "x" * 51})
    assert response.status_code == 400
    assert not Preferences.objects.filter(user=editor).exists()


def test_the_list_opens_at_the_preferred_page_size_and_an_explicit_size_still_wins(editor_client, seed):
    for i in range(12):
        seed.image(f"img-{i:02d}")
    editor_client.post("/preferences/", {"theme": "auto", "page_size": "10"})
    body = editor_client.get(LIST).content.decode()
    assert body.count('name="ids"') == 10
    next_href = re.search(r'rel="next" href="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert "size=" not in next_href  # the preferred size is the default: the URL stays short
    assert editor_client.get(LIST, {"size": "50"}).content.decode().count('name="ids"') == 12


def test_hidden_columns_are_hidden_on_the_list_and_the_chooser_shows_them_unchecked(editor_client, seed):
    seed.image("web-1", labels={"env": "prod"})
    response = editor_client.post(
        "/preferences/columns", {"columns": ["status", "created"], "next": LIST + "?sort=name"}
    )
    assert response.status_code == 302 and response["Location"] == LIST + "?sort=name"
    body = editor_client.get(LIST).content.decode()
    table = re.search(r'<table class="images[^"]*"', body).group(0)
    for hidden in ("family", "size", "min_disk", "os", "labels"):
        assert f"hide-{hidden}" in table
    assert "hide-status" not in table and "hide-created" not in table
    assert 'value="status" checked' in body and 'value="labels">' in body


def test_the_column_chooser_goes_back_only_to_this_site(editor_client, seed):
    response = editor_client.post(
        "/preferences/columns", {"columns": ["os"], "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_theme_switch_sets_the_page_theme_and_auto_follows_the_system(editor_client, seed):
    assert "data-theme" not in _html_tag(editor_client.get(LIST).content.decode())
    response = editor_client.post("/preferences/theme", {"theme": "dark", "next": LIST})
    assert response.status_code == 302 and response["Location"] == LIST
    body = editor_client.get(LIST).content.decode()
    assert 'data-theme="dark"' in _html_tag(body)
    assert '<meta name="color-scheme" content="dark">' in body
    assert 'value="dark" class="button small quiet" aria-pressed="true"' in body
    editor_client.post("/preferences/theme", {"theme": "auto"})
    assert "data-theme" not in _html_tag(editor_client.get(LIST).content.decode())
    editor_client.post("/preferences/theme", {"theme": "purple"})  # ignored
    assert "data-theme" not in _html_tag(editor_client.get(LIST).content.decode())


def test_home_opens_the_default_folder(editor_client, seed):
    assert urlparse(editor_client.get("/")["Location"]).path == LIST
    editor_client.post("/preferences/", {"theme": "auto", "default_folder": "elsewhere"})
    assert urlparse(editor_client.get("/")["Location"]).path == "/f/elsewhere/images/"


def test_a_saved_view_is_the_list_url_and_survives_signing_out_and_in(editor, seed):
    seed.image("web-1", family="web-app")
    seed.image("db-1", family="db-main")
    client = Client()
    assert client.login(username=editor.username, password=PASSWORD)
    response = client.post(
        f"/f/{FOLDER}/views/", {"name": "Web, by name", "query": "?family=web-app&sort=name&size=10&page=abc"}
    )
    assert response.status_code == 302 and response["Location"] == LIST + "?family=web-app&sort=name"
    assert client.post("/logout/").status_code == 302
    assert client.login(username=editor.username, password=PASSWORD)
    body = client.get(LIST).content.decode()
    link = re.search(r'<a href="([^"]+)"[^>]*>Web, by name</a>', body).group(1).replace("&amp;", "&")
    assert link == LIST + "?family=web-app&sort=name"
    shown = client.get(link).content.decode()
    assert ">web-1</a>" in shown and ">db-1</a>" not in shown
    assert 'aria-current="true">Web, by name</a>' in shown  # the list says which view it is showing


def test_saving_a_view_under_its_name_again_replaces_it(editor, editor_client, seed):
    editor_client.post(f"/f/{FOLDER}/views/", {"name": "mine", "query": "?family=a"})
    editor_client.post(f"/f/{FOLDER}/views/", {"name": "mine", "query": "?family=b"})
    assert list(SavedView.objects.filter(user=editor).values_list("query", flat=True)) == ["?family=b"]


def test_saved_views_are_private_and_deletable_only_by_their_owner(
    editor, editor_client, viewer_client, seed
):
    editor_client.post(f"/f/{FOLDER}/views/", {"name": "secret-view", "query": "?family=a"})
    view = SavedView.objects.get(user=editor)
    assert "secret-view" not in viewer_client.get(LIST).content.decode()
    assert viewer_client.post(f"/views/{view.id}/delete").status_code == 404
    assert "secret-view" in editor_client.get("/preferences/").content.decode()
    assert editor_client.post(f"/views/{view.id}/delete").status_code == 302
    assert not SavedView.objects.exists()
    assert "secret-view" not in editor_client.get(LIST).content.decode()


def test_a_view_without_a_name_is_not_saved(editor_client, seed):
    response = editor_client.post(f"/f/{FOLDER}/views/", {"name": " ", "query": "?family=a"})
    assert response.status_code == 302 and not SavedView.objects.exists()


def test_a_page_with_preferences_and_views_still_costs_no_query(
    editor_client, seed, django_assert_num_queries
):
    seed.image("web-1")
    editor_client.post("/preferences/", {"theme": "dark", "page_size": "25", "visible_columns": ["status"]})
    editor_client.post(f"/f/{FOLDER}/views/", {"name": "mine", "query": "?family=a"})
    assert editor_client.get(LIST).status_code == 200
    with django_assert_num_queries(0):
        body = editor_client.get(LIST).content.decode()
    assert 'data-theme="dark"' in body and ">mine</a>" in body and "hide-labels" in body


def test_copy_buttons_sit_beside_ids_on_every_page(editor_client, seed):
    image = seed.image("web-1", family="web-app")
    disk = seed.disk
    snapshot = seed.backend.register_source("snapshot", FOLDER, 1024**3, name="nightly")
    pages = {
        LIST: image,
        f"/images/{image}/": image,
        f"/f/{FOLDER}/families/": image,
        f"/f/{FOLDER}/families/web-app/": image,
        f"/f/{FOLDER}/disks/": disk,
        f"/f/{FOLDER}/snapshots/": snapshot,
    }
    for path, shown_id in pages.items():
        body = editor_client.get(path).content.decode()
        assert f'data-copy="{shown_id}"' in body, path
    detail = editor_client.get(f"/images/{image}/").content.decode()
    assert re.search(r'data-copy="[^"]+" aria-label="Copy operation ID', detail)


def test_times_read_relative_with_the_exact_time_and_zone_on_hover(editor_client, seed):
    image = seed.image("web-1")
    body = editor_client.get(LIST).content.decode()
    assert re.search(
        r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">just now</time>', body
    )
    detail = editor_client.get(f"/images/{image}/").content.decode()
    assert re.search(
        r'<time datetime="[^"]+" title="just now">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>', detail
    )


def test_relative_time_wording():
    now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert times.relative(now - dt.timedelta(seconds=10), now) == "just now"
    assert times.relative(now - dt.timedelta(minutes=3), now) == "3 min ago"
    assert times.relative(now - dt.timedelta(hours=5), now) == "5 h ago"
    assert times.relative(now - dt.timedelta(days=1), now) == "1 day ago"
    assert times.relative(now - dt.timedelta(days=3), now) == "3 days ago"
    assert times.relative(now - dt.timedelta(days=90), now) == "2025-12-01"
    assert times.absolute(now) == "2026-03-01 12:00:00 UTC"
