"""Lighter pages: hashed, precompressed static files cached for a year, and compressed HTML."""

import gzip
import re

from django.core.management import call_command

from dashboard import settings as dashboard_settings
from tests.dashboard.fixtures import FOLDER

LIST = f"/f/{FOLDER}/images/"
GZIP = {"Accept-Encoding": "gzip, deflate"}


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_pages_link_hashed_static_files_served_precompressed_and_cached_for_a_year(
    viewer_client, settings, tmp_path
):
    # The dashboard's own storage, collected as `make run` collects it.
    settings.STORAGES = dashboard_settings.STORAGES
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)

    page = viewer_client.get(LIST)
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.content.decode())
    assert len(links) == 4
    for link in links:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", link), link
        response = viewer_client.get(link, headers=GZIP)
        assert response.status_code == 200
        assert "max-age=315360000" in response["Cache-Control"] and "immutable" in response["Cache-Control"]
        if not link.endswith(".svg"):  # big enough to be worth a gzipped copy
            assert response["Content-Encoding"] == "gzip"
            original = viewer_client.get(link)  # a client that takes no gzip gets the plain file
            assert gzip.decompress(_body(response)) == _body(original)


def test_html_is_compressed_and_the_csrf_token_differs_in_every_response(viewer_client):
    first = viewer_client.get(LIST, headers=GZIP)
    second = viewer_client.get(LIST, headers=GZIP)
    assert first["Content-Encoding"] == "gzip" and "Accept-Encoding" in first["Vary"]
    html = gzip.decompress(first.content)
    assert len(first.content) < len(html) / 2
    # BREACH guesses a secret repeated across compressed responses: the masked token never repeats.
    tokens = [
        re.search(rb'"X-CSRFToken": "([^"]+)"', gzip.decompress(r.content)).group(1) for r in (first, second)
    ]
    assert tokens[0] != tokens[1]
