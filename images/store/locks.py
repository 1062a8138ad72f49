"""Row and advisory locks on PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from images.store.models import Image


def for_update(queryset: QuerySet) -> QuerySet:
    """The queryset row-locked on PostgreSQL (SELECT ... FOR UPDATE); call inside a transaction."""
    if connection.vendor == "postgresql":
        return queryset.select_for_update()
    return queryset


def image_share_locked(image_id: str) -> Image | None:
    """The image, share-locked on PostgreSQL: a delete waits for our commit, but copies of one
    popular image do not queue behind each other as they would with FOR UPDATE."""
    if connection.vendor != "postgresql":
        return Image.objects.filter(id=image_id).first()
    table = Image._meta.db_table
    rows = list(Image.objects.raw(f'SELECT * FROM "{table}" WHERE "id" = %s FOR SHARE', [image_id]))  # noqa: S608
    return rows[0] if rows else None


def lock_blob(blob: str) -> None:
    """A transaction lock per stored blob (its sha256)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(bytes.fromhex(blob[:16]), "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
