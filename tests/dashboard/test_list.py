"""The image list: page vs fragment, URL state, pagination, one backend call per render, escaping."""

from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.backend import Backend
from tests.dashboard.fixtures import FOLDER, backend_calls

LIST = f"/f/{FOLDER}/images/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_full_page_and_fragment_come_from_the_same_url(editor_client, seed):
    seed.image("web-1")
    page = editor_client.get(LIST)
    fragment = editor_client.get(LIST, **HTMX)
    assert page.status_code == fragment.status_code == 200
    assert b"<html" in page.content and b'id="filters"' in page.content
    assert b"<html" not in fragment.content and b'id="filters"' not in fragment.content
    assert b'id="results"' in fragment.content and b"web-1" in fragment.content
    assert len(fragment.content) < 0.6 * len(page.content)
    assert "HX-Request" in page["Vary"]


def test_history_restore_gets_the_full_page(editor_client, seed):
    response = editor_client.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<html" in response.content


def test_filters_reach_the_api_and_show_only_matches(editor_client, seed):
    seed.image("web-1", family="web-app", labels={"env": "prod"})
    seed.image("web-2", family="web-app", labels={"env": "test"})
    seed.image("db-1", family="db-main", labels={"env": "prod"})
    body = editor_client.get(LIST, {"family": "web-app", "labels": "env=prod"}, **HTMX).content.decode()
    assert ">web-1</a>" in body and ">web-2</a>" not in body and ">db-1</a>" not in body
    body = editor_client.get(LIST, {"name": "web-1, db-1", "name_op": "in"}, **HTMX).content.decode()
    assert ">web-1</a>" in body and ">db-1</a>" in body and ">web-2</a>" not in body
    body = editor_client.get(LIST, {"name": "web-1", "name_op": "ne"}, **HTMX).content.decode()
    assert ">web-1</a>" not in body and ">web-2</a>" in body


def test_name_contains_and_starts_with_and_label_key_reach_the_api(editor_client, seed):
    seed.image("web-1", labels={"env": "prod"})
    seed.image("old-web-2", labels={"team": "web"})
    seed.image("db-1")
    body = editor_client.get(LIST, {"name": "WEB"}, **HTMX).content.decode()
    assert ">web-1</a>" in body and ">old-web-2</a>" in body and ">db-1</a>" not in body
    body = editor_client.get(LIST, {"name": "web", "name_op": "prefix"}, **HTMX).content.decode()
    assert ">web-1</a>" in body and ">old-web-2</a>" not in body
    body = editor_client.get(LIST, {"labels": "team"}, **HTMX).content.decode()
    assert ">old-web-2</a>" in body and ">web-1</a>" not in body and ">db-1</a>" not in body
    page = editor_client.get(LIST).content.decode()
    assert '<option value="contains" selected>contains</option>' in page
    assert '<option value="prefix">starts with</option>' in page


def test_filter_form_shows_the_state_from_the_url(editor_client, seed):
    body = editor_client.get(LIST, {"name": "web", "family": "web-app", "status": "READY"}).content.decode()
    assert 'name="name" value="web"' in body
    assert 'value="web-app"' in body
    assert 'value="READY" checked' in body


@pytest.mark.parametrize("sort", ["", "name", "-created"])
def test_pages_go_forward_and_back_with_tokens_in_the_url(editor_client, seed, sort):
    for i in range(12):
        seed.image(f"img-{i:02d}")
    body = editor_client.get(LIST, {"size": "10", "sort": sort}).content.decode()
    assert "Page 1" in body and 'rel="prev"' not in body
    next_href = _href(body, "next")
    query = parse_qs(urlparse(next_href).query, keep_blank_values=True)
    assert query["after"] == [""] and query["page"][0] and query["size"] == ["10"]
    second = editor_client.get(next_href, **HTMX).content.decode()
    assert "Page 2" in second and second.count('name="ids"') == 2
    assert 'hx-push-url="true"' in second
    back = editor_client.get(_href(second, "prev")).content.decode()
    assert "Page 1" in back and back.count('name="ids"') == 10


def _href(body: str, rel: str) -> str:
    marker = f'rel="{rel}" href="'
    start = body.index(marker) + len(marker)
    return body[start : body.index('"', start)].replace("&amp;", "&")


def test_the_list_state_reaches_the_one_call(editor_client, seed, monkeypatch):
    seed.image("web-1")
    calls = []
    original = Backend.list_images_with_latest

    def recording(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Backend, "list_images_with_latest", recording)
    editor_client.get(LIST, {"name": "web-1", "name_op": "eq", "sort": "-created"})
    assert len(calls) == 1
    assert calls[0]["filter"] == 'name = "web-1"' and calls[0]["order_by"] == "createdAt desc"


ONE_CALL = {"ImageExtensionService/ListImages": 1}


def _marked(body: str, *image_ids: str) -> dict[str, bool]:
    """Whether each image's row carries the latest marker."""
    rows = {image_id: row for row in body.split("<tr>") for image_id in image_ids if image_id in row}
    return {image_id: "latest-mark" in rows[image_id] for image_id in image_ids}


def test_a_list_page_with_its_latest_markers_is_one_backend_call(editor_client, viewer_client, seed):
    older = seed.image("web-1", family="web-app")
    newer = seed.image("web-2", family="web-app")
    only = seed.image("db-1", family="db-main")
    plain = seed.image("plain-1")
    for client, query, headers in [
        (editor_client, {}, {}),
        (editor_client, {}, HTMX),
        (viewer_client, {}, HTMX),
        (editor_client, {"family": "web-app", "sort": "name"}, HTMX),
        (editor_client, {"name": "1", "status": "READY"}, {}),
    ]:
        with backend_calls() as calls:
            body = client.get(LIST, query, **headers).content.decode()
        assert calls == ONE_CALL, (query, headers)
        shown = [image_id for image_id in (older, newer, only, plain) if image_id in body]
        assert _marked(body, *shown) == {image_id: image_id in (newer, only) for image_id in shown}, query
        assert older in shown


def test_each_page_is_one_call_and_marks_only_the_latest_it_holds(editor_client, seed):
    versions = [seed.image(f"web-{i:02d}", family="web-app") for i in range(11)]
    with backend_calls() as calls:
        first = editor_client.get(LIST, {"size": "10", "sort": "created"}).content.decode()
    assert calls == ONE_CALL
    assert not any(_marked(first, *versions[:10]).values())  # the family's latest is on the next page
    with backend_calls() as calls:
        second = editor_client.get(_href(first, "next"), **HTMX).content.decode()
    assert calls == ONE_CALL
    assert _marked(second, versions[10]) == {versions[10]: True}


def test_invalid_filter_is_reported_without_calling_the_api(editor_client, dashboard):
    with backend_calls() as calls:
        response = editor_client.get(LIST, {"family": "Bad_Family"})
    assert calls == {}
    assert response.status_code == 400
    assert "Family must be" in response.content.decode()


def test_foreign_page_token_says_the_link_expired(editor_client, dashboard):
    response = editor_client.get(LIST, {"page": "not-a-token-the-server-issued"})
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_empty_folder_and_empty_filter_states(editor_client, seed):
    assert "No images in this folder yet" in editor_client.get("/f/empty-folder/images/").content.decode()
    body = editor_client.get(LIST, {"name": "nothing-matches"}).content.decode()
    assert "No images match these filters" in body


def test_result_count_is_announced(editor_client, seed):
    seed.image("web-1")
    body = editor_client.get(LIST, **HTMX).content.decode()
    assert 'id="results-status" hx-swap-oob="innerHTML"' in body
    assert "1 image on page 1" in body


def test_user_text_is_escaped(editor_client, seed):
    seed.image("xss", description='<script>alert("d")</script>', labels={"k": "v"})
    body = editor_client.get(
        f"/f/{FOLDER}/images/", {"name": "<img src=x onerror=alert(1)>"}
    ).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_folder_in_the_url_is_remembered_for_the_picker(editor_client, dashboard):
    editor_client.get("/f/other-folder/images/")
    body = editor_client.get(LIST).content.decode()
    assert '<option value="other-folder">' in body
    assert editor_client.get("/")["Location"] == LIST
    assert (
        editor_client.get("/folders/go", {"folder": "other-folder"})["Location"] == "/f/other-folder/images/"
    )


def test_filter_form_requests_push_the_short_canonical_url(editor_client, dashboard):
    response = editor_client.get(
        LIST,
        {"name": "", "name_op": "eq", "family": "web-app", "labels": "", "size": "50"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER="filters",
    )
    assert response["HX-Push-Url"] == LIST + "?family=web-app"
    refresh = editor_client.get(
        LIST, {"family": "web-app"}, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="results"
    )
    assert "HX-Push-Url" not in refresh


def _names(body: str) -> list[str]:
    import re

    return re.findall(r'<th scope="row"><a href="[^"]*">([^<]+)</a>', body)


def test_previous_leads_back_to_the_real_first_page_however_deep(editor_client, dashboard):
    from benchmarks.seed import seed_images

    seed_images(FOLDER, count=480, families=4)
    pages = [editor_client.get(LIST, {"size": "10", "sort": "name"}, **HTMX).content.decode()]
    for _ in range(45):
        pages.append(editor_client.get(_href(pages[-1], "next"), **HTMX).content.decode())
    assert "Page 46" in pages[-1]
    body = pages[-1]
    for number in range(45, 0, -1):
        assert 'rel="prev"' in body, f"no Previous on page {number + 1}"
        body = editor_client.get(_href(body, "prev"), **HTMX).content.decode()
        assert f"Page {number}<" in body
        assert _names(body) == _names(pages[number - 1]) and _names(body)
    assert 'rel="prev"' not in body


def test_a_page_link_from_elsewhere_offers_the_first_page_not_a_guessed_number(editor_client, seed):
    for i in range(12):
        seed.image(f"img-{i:02d}")
    first = editor_client.get(LIST, {"size": "10"}).content.decode()
    token = parse_qs(urlparse(_href(first, "next")).query)["page"][0]
    body = editor_client.get(LIST, {"size": "10", "page": token}).content.decode()  # no "after"
    assert 'rel="prev"' not in body and "Page 1" not in body
    assert "First page" in body and body.count('name="ids"') == 2


def test_list_opens_newest_first(editor_client, seed):
    for name in ("first", "second", "third"):
        seed.image(name)
    body = editor_client.get(LIST, **HTMX).content.decode()
    assert body.index(">third</a>") < body.index(">second</a>") < body.index(">first</a>")


def test_sorts_are_offered_only_where_the_api_can_order(editor_client, seed):
    seed.image("web-1")
    body = editor_client.get(LIST).content.decode()
    assert "sort=name" in body and "sort=created" in body
    assert "sort=size" not in body and "sort=status" not in body


def test_label_chips_link_to_the_list_filtered_by_that_label(editor_client, seed):
    seed.image("web-1", labels={"env": "prod"})
    seed.image("web-2", labels={"env": "test"})
    body = editor_client.get(LIST, **HTMX).content.decode()
    href = f"{LIST}?labels=env%3Dprod"
    assert f'<a class="chip" href="{href}">' in body
    filtered = editor_client.get(href, **HTMX).content.decode()
    assert ">web-1</a>" in filtered and ">web-2</a>" not in filtered
