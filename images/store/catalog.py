"""Disk and snapshot reads from the source catalog: Get, and List pages through the shared keyset
pagination (the filter compiler's Q applies as it does to images)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import IntegerField, Q, QuerySet, Value

from images.store import pagination
from images.store.models import ImageStatus, Source

# The catalog holds no status: every source is READY, annotated so `status` filters work unchanged.
_READY = Value(int(ImageStatus.READY), output_field=IntegerField())


def _sources(kind: str) -> QuerySet:
    return Source.objects.filter(kind=kind).annotate(status=_READY)


def source_by_id(kind: str, source_id: str) -> Source | None:
    return _sources(kind).filter(id=source_id).first()


def source_page(
    kind: str,
    folder_id: str,
    where: Q,
    order_fields: Sequence[tuple[str, bool]],
    *,
    page_size: int,
    page_token: str,
    scope: str,
) -> tuple[list[Source], str]:
    """One List page of a folder's sources of `kind` matching `where`, and the next page's token."""
    queryset = _sources(kind).filter(folder_id=folder_id)
    if where:
        queryset = queryset.filter(where)
    return pagination.keyset_page(
        queryset, order_fields, page_size=page_size, page_token=page_token, scope=scope
    )
