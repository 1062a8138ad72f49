"""Deep paging's Previous links (dashboard.PageLink): recorded by Next links, purged once old, by a
range of their recorded_at index, without breaking Previous on the pages people are on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import pager
from dashboard.models import PageLink
from tests.dashboard.fixtures import FOLDER

DAY = 86400


@pytest.fixture
def purging(settings):
    settings.DASHBOARD_PAGE_LINK_MAX_AGE_SECONDS = DAY
    settings.DASHBOARD_PAGE_LINK_PURGE_SECONDS = 300
    pager.forget_purge_time()
    yield settings
    pager.forget_purge_time()


def record(token: str) -> None:
    """What a Next link from a first page records: the page `token` opens is page 2."""
    pager.paginate(scope="s", token=token, came_from="", next_token="", link=lambda page, after: page)


def links(prefix: str, count: int, age: dt.timedelta) -> list[str]:
    keys = [f"s:{prefix}-{index}" for index in range(count)]
    PageLink.objects.bulk_create(
        PageLink(key=key, previous="", number=2, recorded_at=timezone.now() - age) for key in keys
    )
    return keys


def kept(keys: list[str]) -> set[str]:
    return set(PageLink.objects.filter(key__in=keys).values_list("key", flat=True))


def test_a_recording_purges_links_past_the_max_age_and_keeps_younger_ones(db, purging):
    old = links("old", 3, dt.timedelta(days=2))
    young = links("young", 3, dt.timedelta(hours=23))
    record("new")
    assert kept(old) == set() and kept(young) == set(young)
    assert PageLink.objects.filter(key="s:new", number=2).exists()


def test_purges_run_once_per_interval_and_drain_a_backlog_a_batch_at_a_time(db, purging, monkeypatch):
    monkeypatch.setattr(pager, "PURGE_BATCH", 2)
    backlog = links("old", 5, dt.timedelta(days=2))
    remaining = []
    for token in ("t1", "t2", "t3"):
        record(token)
        remaining.append(len(kept(backlog)))
    # Two full batches leave the next purge due at once; the third (one row) ends the backlog.
    assert remaining == [3, 1, 0]
    later = links("later", 2, dt.timedelta(days=2))
    record("t4")  # within the interval: no purge
    assert kept(later) == set(later)
    purging.DASHBOARD_PAGE_LINK_PURGE_SECONDS = 0
    record("t5")
    assert kept(later) == set()


def test_a_purge_is_a_range_of_the_recorded_at_index(db, purging):
    links("old", 3, dt.timedelta(days=2))
    with CaptureQueriesContext(connection) as statements:
        record("new")
    [purge] = [query["sql"] for query in statements.captured_queries if query["sql"].startswith("DELETE")]
    assert "recorded_at" in purge
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + purge)
            steps = [row[3] for row in cursor.fetchall()]
            assert any("INDEX page_link_recorded (recorded_at<?)" in step for step in steps), steps
            assert not [step for step in steps if step.startswith("SCAN")], steps
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + purge)
            text = "\n".join(row[0] for row in cursor.fetchall())
            assert "page_link_recorded" in text and "Seq Scan" not in text, text


LIST = f"/f/{FOLDER}/images/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _href(body: str, rel: str) -> str:
    marker = f'rel="{rel}" href="'
    start = body.index(marker) + len(marker)
    return body[start : body.index('"', start)].replace("&amp;", "&")


def test_previous_works_while_links_are_purged_and_a_purged_page_offers_the_first(
    editor_client, dashboard, purging
):
    from benchmarks.seed import seed_images

    seed_images(FOLDER, count=40, families=2)
    purging.DASHBOARD_PAGE_LINK_PURGE_SECONDS = 0  # a purge on every recording
    stale = links("stale", 50, dt.timedelta(days=3))
    pages = [editor_client.get(LIST, {"size": "10", "sort": "name"}, **HTMX).content.decode()]
    for _ in range(3):
        pages.append(editor_client.get(_href(pages[-1], "next"), **HTMX).content.decode())
    assert "Page 4<" in pages[-1] and kept(stale) == set()
    body = pages[-1]
    for number in (3, 2, 1):
        body = editor_client.get(_href(body, "prev"), **HTMX).content.decode()
        assert f"Page {number}<" in body
    # The links of a page left open for longer than the max age are purged: it offers the first page.
    PageLink.objects.update(recorded_at=timezone.now() - dt.timedelta(days=2))
    record("another")
    # Page 4 as its Previous link or a reload without "after" opens it: its recorded link is gone.
    fourth = editor_client.get(_href(pages[2], "next").split("&after=")[0], **HTMX).content.decode()
    assert 'rel="prev"' not in fourth and "First page" in fourth
