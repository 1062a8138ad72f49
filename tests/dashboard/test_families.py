"""A family's page: its versions newest first, the latest marked and named, in one backend call
whenever the page itself shows whether the family has a latest and which."""

from __future__ import annotations

from tests.dashboard.fixtures import FOLDER, backend_calls, older_server

FAMILY = f"/f/{FOLDER}/families/web-app/"
ONE_CALL = {"ImageExtensionService/ListImages": 1}


def _named_latest(body: str) -> str | None:
    """The image the page says GetLatestByFamily returns (None when it says there is none)."""
    marker = 'GetLatestByFamily returns <a href="/images/'
    if marker not in body:
        assert "has no READY image" in body
        return None
    start = body.index(marker) + len(marker)
    return body[start : body.index("/", start)]


def _marked_versions(body: str) -> list[str]:
    return [
        entry.split('<span class="id">', 1)[1].split()[0]
        for entry in body.split('<li class="version')[1:]
        if entry.startswith(" is-latest")
    ]


def test_a_page_holding_the_latest_is_one_call(editor_client, viewer_client, seed):
    seed.image("web-1", family="web-app")
    newer = seed.image("web-2", family="web-app")
    for client in (editor_client, viewer_client):
        with backend_calls() as calls:
            body = client.get(FAMILY).content.decode()
        assert calls == ONE_CALL
        assert _named_latest(body) == newer and _marked_versions(body) == [newer]


def test_a_family_with_no_ready_image_on_its_only_page_is_one_call(editor_client, seed):
    from images.store.models import Image, ImageStatus

    broken = seed.image("web-1", family="web-app")
    Image.objects.filter(id=broken).update(status=ImageStatus.ERROR)  # as verifyimages leaves it
    with backend_calls() as calls:
        body = editor_client.get(FAMILY).content.decode()
    assert calls == ONE_CALL
    assert _named_latest(body) is None and _marked_versions(body) == []


def test_a_later_page_asks_for_the_latest_it_does_not_hold(editor_client, seed):
    versions = [seed.image(f"web-{i:02d}", family="web-app") for i in range(21)]  # one past a page
    first = editor_client.get(FAMILY).content.decode()
    assert _named_latest(first) == versions[-1] and _marked_versions(first) == [versions[-1]]
    start = first.index('rel="next" href="') + len('rel="next" href="')
    with backend_calls() as calls:
        second = editor_client.get(
            first[start : first.index('"', start)].replace("&amp;", "&")
        ).content.decode()
    assert calls == {"ImageExtensionService/ListImages": 1, "ImageService/GetLatestByFamily": 1}
    assert versions[0] in second and _marked_versions(second) == []
    assert _named_latest(second) == versions[-1]


def test_a_server_without_the_extension_gets_list_and_get_latest_by_family(editor_client, seed, settings):
    seed.image("web-1", family="web-app")
    newer = seed.image("web-2", family="web-app")
    with older_server(settings, with_extension=False):
        with backend_calls() as calls:
            body = editor_client.get(FAMILY).content.decode()
        assert calls == {
            "ImageExtensionService/ListImages": 1,
            "ImageService/List": 1,
            "ImageService/GetLatestByFamily": 1,
        }
        assert _named_latest(body) == newer and _marked_versions(body) == [newer]


def test_the_families_page_lists_each_family_with_its_latest_count_and_times(editor_client, seed):
    from images.store.models import Image, ImageStatus

    seed.image("web-1", family="web-app")
    newest = seed.image("web-2", family="web-app")
    broken = seed.image("db-1", family="db-main")
    Image.objects.filter(id=broken).update(status=ImageStatus.ERROR)
    with backend_calls() as calls:
        body = editor_client.get(f"/f/{FOLDER}/families/").content.decode()
    assert calls == {"ImageExtensionService/ListFamilies": 1}
    rows = {row.split("</a>", 1)[0].rsplit(">", 1)[1]: row for row in body.split("<tr><td>")[1:]}
    assert set(rows) == {"db-main", "web-app"}
    web = rows["web-app"]
    assert f'href="/f/{FOLDER}/families/web-app/"' in web and f'href="/images/{newest}/"' in web
    assert f'data-copy="{newest}"' in web and '<td class="num">2</td>' in web and web.count("<time ") == 2
    db = rows["db-main"]
    assert "no READY image" in db and '<td class="num">1</td>' in db and db.count("<time ") == 1
