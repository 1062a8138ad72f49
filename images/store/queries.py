"""Image reads: Get, GetLatestByFamily (one family or a page's), the one List query path; SQL compiled once.

Compiling a queryset costs about 0.4 ms on our machines, as much as a whole gRPC round trip, and
building model instances as much again. So every image read here runs the very SQL the ORM
generates for its queryset and turns the rows into small ImageRecord tuples. Queries whose shape
is fixed (Get, GetLatestByFamily, unfiltered List pages) are compiled once per process; a filtered
List builds the same queryset with its filter and runs it as it is.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple, Protocol

from django.db import connection
from django.db.models import Q, QuerySet

from images import metrics
from images.store import pagination
from images.store.models import Image, ImageFamily, ImageStatus, Operation

COLUMNS = (
    "id", "folder_id", "created_at", "name", "description", "labels", "family", "storage_size",
    "min_disk_size", "product_ids", "status", "os_type", "pooled", "size",
)  # fmt: skip
_COLUMN_INDEX = {name: index for index, name in enumerate(COLUMNS)}


class ImageRecord(NamedTuple):
    """An image as read for an answer: the Image model's public fields, in COLUMNS order."""

    id: str
    folder_id: str
    created_at: dt.datetime
    name: str
    description: str
    labels: dict[str, str]
    family: str
    storage_size: int
    min_disk_size: int
    product_ids: list[str]
    status: int
    os_type: int
    pooled: bool
    size: int


class _Param:
    """A placeholder value that marks where a call's argument goes in the compiled SQL."""

    def __init__(self, index: int):
        self.index = index

    def __str__(self) -> str:
        return f"\x00param{self.index}\x00"


class CompiledQuery:
    """SQL built once from a queryset factory; arguments fill the factory's string parameters."""

    def __init__(self, build: Callable[..., QuerySet], arity: int):
        self._build = build
        self._arity = arity
        self._compiled: dict[str, tuple[str, list]] = {}
        self._lock = threading.Lock()

    def _compile(self) -> tuple[str, list]:
        markers = [str(_Param(index)) for index in range(self._arity)]
        sql, params = self._build(*markers).query.sql_with_params()
        # Each parameter is a call argument (by marker) or a constant the factory fixed.
        slots = [("arg", markers.index(p)) if p in markers else ("const", p) for p in params]
        if {index for kind, index in slots if kind == "arg"} != set(range(self._arity)):
            raise RuntimeError("a query argument was transformed by the ORM; it cannot be precompiled")
        return sql, slots

    def rows(self, *args: Any) -> list[tuple]:
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(connection.vendor, self._compile())
        sql, slots = compiled
        params = [args[value] if kind == "arg" else value for kind, value in slots]
        if connection.vendor == "postgresql":
            cursor = _statement_cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


_local = threading.local()


@functools.cache
def _preparing_cursor_class() -> type:
    import psycopg  # PostgreSQL only

    class PreparingCursor(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


def _statement_cursor() -> Any:
    """The calling thread's cursor for compiled queries on PostgreSQL: bound on the server and
    prepared on first use, so a Get costs PostgreSQL a bind and an execute instead of a parse and
    a plan, and this process one reused cursor instead of a new one (together about half of a
    Get's database time). Django's cursors bind on the client, which cannot prepare; this one is
    still wrapped by Django, so errors, transactions and execute wrappers behave as for any query.
    With prepared statements off (IMAGESERVICE_PG_PREPARED=0, for a pooler in transaction mode)
    the connection's prepare_threshold is None and psycopg binds without preparing."""
    connection.ensure_connection()
    raw = connection.connection
    cached = getattr(_local, "cursor", None)
    if cached is None or _local.raw is not raw or cached.cursor.closed:
        cached = connection.make_cursor(_preparing_cursor_class()(raw))
        _local.cursor, _local.raw = cached, raw
    return cached


_new_record = tuple.__new__  # skips the NamedTuple's keyword constructor: List builds 1000 a call


def _record(row: tuple) -> ImageRecord:
    """A row of COLUMNS as a record: JSON decoded, the datetime aware, the flag a bool."""
    created_at, labels, product_ids = row[2], row[5], row[9]
    if created_at.tzinfo is None:  # SQLite gives naive UTC datetimes to a raw cursor
        created_at = created_at.replace(tzinfo=dt.UTC)
    if isinstance(labels, str | bytes):
        labels = json.loads(labels)
    if isinstance(product_ids, str | bytes):
        product_ids = json.loads(product_ids)
    return _new_record(
        ImageRecord,
        (row[0], row[1], created_at, row[3], row[4], labels, row[6], row[7], row[8], product_ids, row[10],
         row[11], bool(row[12]), row[13]),
    )  # fmt: skip


_GET = CompiledQuery(lambda image_id: Image.objects.filter(id=image_id).values_list(*COLUMNS)[:1], 1)
_LATEST = CompiledQuery(
    lambda folder_id, family: (
        Image.objects.filter(folder_id=folder_id, family=family, status=ImageStatus.READY)
        .order_by("-created_at", "-id")
        .values_list(*COLUMNS)[:1]
    ),
    2,
)


def image_by_id(image_id: str) -> ImageRecord | None:
    rows = _GET.rows(image_id)
    return _record(rows[0]) if rows else None


def images_by_ids(image_ids: Sequence[str]) -> dict[str, ImageRecord]:
    """The records of the images with these ids, by id, in one query."""
    if not image_ids:
        return {}
    rows = Image.objects.filter(id__in=list(image_ids)).values_list(*COLUMNS)
    return {row[0]: _record(row) for row in rows}


def latest_in_family(folder_id: str, family: str) -> ImageRecord | None:
    """The newest READY image of the family in the folder."""
    rows = _LATEST.rows(folder_id, family)
    return _record(rows[0]) if rows else None


_family_latest: dict[int, CompiledQuery] = {}


def _compiled_family_latest(size: int) -> CompiledQuery:
    query = _family_latest.get(size)
    if query is None:

        def build(folder_id: str, *families: str) -> QuerySet:
            return ImageFamily.objects.filter(
                folder_id=folder_id, family__in=families, latest_image_id__isnull=False
            ).values_list("latest_image_id")

        query = _family_latest.setdefault(size, CompiledQuery(build, 1 + size))
    return query


def latest_of_families(folder_id: str, families: Collection[str]) -> set[str]:
    """The ids of the named families' latest READY images (what GetLatestByFamily returns for each),
    in one statement on the family summary's (folder, family) index.

    The IN list is padded to a power of two by repeating a name, so the page's families, however
    many, use one of a dozen SQL texts compiled once.
    """
    names = sorted(families)
    if not names:
        return set()
    size = 1 << (len(names) - 1).bit_length()
    rows = _compiled_family_latest(size).rows(folder_id, *names, *[names[-1]] * (size - len(names)))
    return {row[0] for row in rows}


OrderFields = Sequence[tuple[str, bool]]


class PageFilter(Protocol):
    """A filter that may answer a whole page itself (filters.ImageFilter)."""

    @property
    def q(self) -> Q: ...

    def __bool__(self) -> bool: ...

    def label_page(self, order_fields: OrderFields, last: Sequence, limit: int) -> Q | None: ...


def page_queryset(
    folder_id: Any, where: Q | PageFilter, order_fields: OrderFields, last: Sequence, limit: int
) -> QuerySet:
    """The one List query: a folder's images matching `where`, after `last`, in order."""
    page = None if isinstance(where, Q) else where.label_page(order_fields, last, limit)
    if page is not None:
        # The page's ids come off the folder's label index already in order and past `last`; only
        # they are read from the image table, by primary key, and their `limit` rows sorted again.
        # (With a folder condition here too, SQLite may walk the folder's order index instead.)
        queryset = Image.objects.filter(page)
    else:
        queryset = Image.objects.filter(folder_id=folder_id)
        if where:
            queryset = queryset.filter(where if isinstance(where, Q) else where.q)
        if last:
            queryset = queryset.filter(pagination.after_q(order_fields, last))
    order = [("-" if descending else "") + name for name, descending in order_fields]
    return queryset.order_by(*order).values_list(*COLUMNS)[:limit]


_pages: dict[tuple, CompiledQuery] = {}


def _compiled_page(order_fields: tuple[tuple[str, bool], ...], after: bool, limit: int) -> CompiledQuery:
    key = (order_fields, after, limit)
    query = _pages.get(key)
    if query is None:
        arity = 1 + (len(order_fields) if after else 0)

        def build(folder_id: str, *last: str) -> QuerySet:
            return page_queryset(folder_id, Q(), order_fields, last, limit)

        query = _pages.setdefault(key, CompiledQuery(build, arity))
    return query


def image_page(
    folder_id: str,
    where: Q | PageFilter,
    order_fields: OrderFields,
    *,
    page_size: int,
    page_token: str,
    scope: str,
) -> tuple[list[ImageRecord], str]:
    """One List page of a folder's images matching `where` (Q() for all), and the next page's token.

    The order must end with id. Unfiltered pages ordered by string keys (id, name) run SQL compiled
    once; the others run their queryset, built by the same function.
    """
    fields = tuple(order_fields)
    last: list = []
    if page_token:
        values = pagination.decode_token(page_token, scope=scope, arity=len(fields))
        last = [
            pagination.from_token_value(Image, name, value)
            for (name, _), value in zip(fields, values, strict=True)
        ]
    started = time.perf_counter()
    if not where and all(name in ("id", "name") for name, _ in fields):
        shape = "precompiled"
        rows = _compiled_page(fields, bool(last), page_size + 1).rows(folder_id, *last)
    else:
        shape = "filtered" if where else "ordered"
        rows = list(page_queryset(folder_id, where, fields, last, page_size + 1))
    metrics.LIST_QUERY_SECONDS.labels(shape).observe(time.perf_counter() - started)
    next_token = ""
    if len(rows) > page_size:
        rows = rows[:page_size]
        next_token = pagination.encode_token(
            [pagination.to_token_value(rows[-1][_COLUMN_INDEX[name]]) for name, _ in fields], scope=scope
        )
    return [_record(row) for row in rows], next_token


_OPERATION_FIELDS = [field.attname for field in Operation._meta.concrete_fields]
_GET_OPERATION = CompiledQuery(
    lambda operation_id: Operation.objects.filter(id=operation_id).values_list(*_OPERATION_FIELDS)[:1], 1
)


def operation_by_id(operation_id: str) -> Operation | None:
    """The operation by id (clients poll this); JSON fields stay undecoded, which answers never need."""
    rows = _GET_OPERATION.rows(operation_id)
    if not rows:
        return None
    return Operation.from_db(connection.alias, _OPERATION_FIELDS, rows[0])
