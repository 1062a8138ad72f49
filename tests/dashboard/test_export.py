"""Export of the list's current view: every page of its filter and sort, streamed, CSV and JSON."""

import csv
import io
import json

import pytest
from django.utils import timezone

from dashboard.views import export
from tests.dashboard.fixtures import FOLDER

EXPORT = f"/f/{FOLDER}/images/export"


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of two, so a handful of images spans several API pages."""
    monkeypatch.setattr(export, "EXPORT_PAGE_SIZE", 2)


def _body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_csv_export_holds_every_page_of_the_filtered_sorted_view(viewer_client, seed, small_pages):
    for i in range(5):
        seed.image(f"web-{i}", family="web-app", labels={"env": "prod"})
    seed.image("db-1", family="db-main")
    response = viewer_client.get(f"{EXPORT}.csv", {"family": "web-app", "sort": "-name", "size": "10"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    today = f"{timezone.localdate():%Y-%m-%d}"
    assert response["Content-Disposition"] == f'attachment; filename="images-{FOLDER}-{today}.csv"'
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [row["name"] for row in rows] == ["web-4", "web-3", "web-2", "web-1", "web-0"]
    assert rows[0]["labels"] == "env=prod" and rows[0]["status"] == "READY"


def test_json_export_is_one_valid_document_across_pages(viewer_client, seed, small_pages):
    for i in range(3):
        seed.image(f"img-{i}")
    response = viewer_client.get(f"{EXPORT}.json", {"name": "img-1", "name_op": "ne"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith(f'-{timezone.localdate():%Y-%m-%d}.json"')
    records = json.loads(_body(response))
    assert [r["name"] for r in records] == ["img-2", "img-0"]  # newest first, as the list opens
    assert set(records[0]) == set(export.FIELDS)


def test_empty_export_is_still_valid(viewer_client, dashboard):
    assert json.loads(_body(viewer_client.get(f"{EXPORT}.json"))) == []
    assert _body(viewer_client.get(f"{EXPORT}.csv")).splitlines() == [",".join(export.FIELDS)]


def test_refused_filter_is_a_400_before_anything_streams(viewer_client, dashboard):
    response = viewer_client.get(f"{EXPORT}.csv", {"family": "Bad_Family"})
    assert response.status_code == 400 and not response.streaming


def test_unknown_format_is_not_found(viewer_client, dashboard):
    assert viewer_client.get(f"{EXPORT}.xml").status_code == 404


def test_list_links_export_of_its_current_filter(viewer_client, seed):
    seed.image("web-1", family="web-app")
    body = viewer_client.get(
        f"/f/{FOLDER}/images/", {"family": "web-app", "size": "10", "sort": "name"}
    ).content.decode()
    assert f'href="{EXPORT}.csv?family=web-app&amp;sort=name"' in body
    assert f'href="{EXPORT}.json?family=web-app&amp;sort=name"' in body
