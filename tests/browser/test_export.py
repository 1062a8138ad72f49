"""Export in a real browser: the list's CSV and JSON links download every row of a filtered, sorted,
multi-page view (spanning several API pages) and nothing else."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.views import export
from tests.dashboard.fixtures import FOLDER

pytestmark = pytest.mark.browser


@pytest.fixture
def small_pages(monkeypatch):
    """API pages of five: the live server runs in this process, so twelve rows take three pages."""
    monkeypatch.setattr(export, "EXPORT_PAGE_SIZE", 5)


def _download(page, link_text: str) -> tuple[str, str]:
    with page.expect_download() as info:
        page.locator("p.export").get_by_role("link", name=link_text).click()
    download = info.value
    assert download.failure() is None
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def test_csv_and_json_downloads_hold_every_row_of_the_filtered_view_and_nothing_else(
    sign_in, site, browser_seed, small_pages
):
    wanted = {browser_seed.image(f"web-{i:02d}", family="web-app", labels={"env": "prod"}): f"web-{i:02d}"
              for i in range(12)}  # fmt: skip
    for i in range(2):  # same family, other label; same label, other family: both filtered out
        browser_seed.image(f"web-stage-{i}", family="web-app", labels={"env": "stage"})
        browser_seed.image(f"db-{i}", family="db-main", labels={"env": "prod"})
    expected = sorted(wanted.items(), key=lambda item: item[1])

    page = sign_in("viewer")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.fill("#f-family", "web-app")
    page.fill("#f-labels", "env=prod")
    page.select_option("#f-size", "10")
    expect(page).to_have_url(re.compile(r"family=web-app.*labels=env%3Dprod.*size=10"))
    page.locator("#results th a", has_text="Name").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    # The view on screen is one page of two; the export is the whole view.
    expect(page.locator("#results tbody tr")).to_have_count(10)
    expect(page.locator("#results a[rel=next]")).to_be_visible()

    today = f"{timezone.localdate():%Y-%m-%d}"
    name, body = _download(page, "CSV")
    assert name == f"images-{FOLDER}-{today}.csv"
    rows = list(csv.DictReader(body.splitlines()))
    assert [(row["id"], row["name"]) for row in rows] == expected
    assert {row["labels"] for row in rows} == {"env=prod"} and {row["family"] for row in rows} == {"web-app"}

    name, body = _download(page, "JSON")
    assert name == f"images-{FOLDER}-{today}.json"
    records = json.loads(body)
    assert [(record["id"], record["name"]) for record in records] == expected
    assert all(record["labels"] == {"env": "prod"} for record in records)
