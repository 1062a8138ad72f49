"""On PostgreSQL the compiled reads (Get, GetLatestByFamily, unfiltered List pages) run as prepared
statements on one reused cursor per connection; with IMAGESERVICE_PG_PREPARED=0 nothing is prepared."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from images.store import queries
from images.store.models import Image, ImageStatus

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def image(db):
    return Image.objects.create(
        id="img00000000000000001", folder_id="folder-prep", created_at=T0, name="one", family="fam",
        status=ImageStatus.READY,
    )  # fmt: skip


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_get_and_latest_are_prepared_once_and_reused(image):
    assert queries.image_by_id(image.id).name == "one"
    assert queries.image_by_id(image.id).name == "one"
    assert queries.latest_in_family("folder-prep", "fam").id == image.id
    statements = prepared_statements()
    gets = [sql for sql in statements if '"images_image"."id" = $1' in sql]
    latest = [sql for sql in statements if '"images_image"."family" = $1' in sql]
    assert len(gets) == 1, statements  # the second Get reused the first one's statement
    assert len(latest) == 1, statements


def test_a_prepared_read_sees_rows_written_in_the_same_transaction(image):
    Image.objects.filter(id=image.id).update(name="renamed")
    assert queries.image_by_id(image.id).name == "renamed"
    assert queries.image_by_id("img00000000000000404") is None


def test_prepared_statements_can_be_turned_off(image, monkeypatch):
    by_name = queries.CompiledQuery(lambda name: Image.objects.filter(name=name).values_list("id"), 1)
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)  # IMAGESERVICE_PG_PREPARED=0
    assert by_name.rows("one") == [(image.id,)]
    assert not [sql for sql in prepared_statements() if '"images_image"."name" = $1' in sql]


def test_the_setting_decides_the_connection_option(monkeypatch):
    from images import settings_base

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/anything")
    assert settings_base._database()["OPTIONS"]["prepare_threshold"] == 0
    monkeypatch.setenv("IMAGESERVICE_PG_PREPARED", "0")
    assert "prepare_threshold" not in settings_base._database().get("OPTIONS", {})
