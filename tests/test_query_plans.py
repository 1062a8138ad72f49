"""Query plans of List under every order and filter kind: an index range, never a full scan of the
folder or a sort of it, on SQLite (EXPLAIN QUERY PLAN) and PostgreSQL (EXPLAIN), so that a later
change cannot lose an index without a failing test."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from images.store import queries
from images.store.filters import filter_q, image_filter, image_filter_q, parse_filter, parse_order_by
from images.store.models import Image, ImageStatus

FOLDER = "folder-plans"
ORDERS = ["id", "id desc", "name", "name desc", "createdAt", "createdAt desc"]
T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def images(db):
    Image.objects.bulk_create(
        Image(
            id=f"img{index:017d}",
            folder_id=FOLDER if index % 4 else "folder-other",
            created_at=T0 + dt.timedelta(seconds=index),
            name=f"image-{index}",
            family=f"family-{index % 5}",
            labels={"build": str(index), "env": "prod" if index % 2 else "test"},
            status=ImageStatus.ERROR if index % 10 == 0 else ImageStatus.READY,
        )
        for index in range(200)
    )


def plan(filter_text: str, order_by: str, *, deep: bool) -> tuple[list[str], str]:
    """The plan's steps (SQLite details, PostgreSQL node types with their relations) and its text."""
    order_fields = parse_order_by(order_by).order_fields()
    last = [{"id": "img00000000000000100", "name": "image-100", "created_at": T0}[f] for f, _ in order_fields]
    queryset = queries.page_queryset(
        FOLDER, image_filter(FOLDER, parse_filter(filter_text)), order_fields, last if deep else [], 101
    )
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            steps = [row[3] for row in cursor.fetchall()]
            return steps, "\n".join(steps)
        # A few hundred rows cost less to read whole than through an index; the plans we want
        # are the ones the planner takes at scale, so make a whole-table read and a sort dear.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
        root = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
        steps, pending = [], [root]
        while pending:
            node = pending.pop()
            parts = [node["Node Type"], node.get("Relation Name", ""), node.get("Index Name", "")]
            steps.append(" ".join([*parts, node.get("Index Cond", "")]).strip())
            pending += node.get("Plans", [])
        return steps, json.dumps(root, indent=1)


def full_scans(steps: list[str]) -> list[str]:
    if connection.vendor == "sqlite":
        # "SCAN images_image_name_search VIRTUAL TABLE" is the trigram index answering MATCH.
        return [step for step in steps if step.split()[:2] == ["SCAN", "images_image"]]
    return [step for step in steps if step.startswith("Seq Scan")]


def bounded(steps: list[str]) -> bool:
    """Whether the image index is entered at the last row's key (a range), not walked from the start."""
    if connection.vendor == "sqlite":
        return any(
            step.startswith("SEARCH images_image USING") and ("<" in step or ">" in step) for step in steps
        )
    return any(" images_image " in step and ("<" in step or ">" in step) for step in steps)


def sorts(steps: list[str]) -> list[str]:
    if connection.vendor == "sqlite":
        return [step for step in steps if "TEMP B-TREE" in step]
    return [step for step in steps if step.startswith(("Sort", "Incremental Sort"))]


# Filters whose order comes straight from an index: no full scan and no sort, first page or deep.
ORDERED_FILTERS = ["", 'status = "ERROR"', 'status = "READY"']


@pytest.mark.parametrize("deep", [False, True], ids=["first", "deep"])
@pytest.mark.parametrize("order_by", ORDERS)
@pytest.mark.parametrize("filter_text", ORDERED_FILTERS)
def test_list_pages_are_an_index_range_in_their_order(images, filter_text, order_by, deep):
    steps, text = plan(filter_text, order_by, deep=deep)
    assert not full_scans(steps), text
    assert not sorts(steps), text
    if deep:
        assert bounded(steps), text


def test_a_family_timeline_is_an_index_range_in_created_order(images):
    for order_by in ("createdAt", "createdAt desc"):
        for deep in (False, True):
            steps, text = plan('family = "family-1"', order_by, deep=deep)
            assert not full_scans(steps), text
            assert not sorts(steps), text
            assert any("image_family_created" in step for step in steps), text
            if deep:
                assert bounded(steps), text


# Filters that pick few rows: read through an index (the label table's, the search index, the
# status or family index); their matches may be sorted, the folder never is read whole.
SELECTIVE_FILTERS = [
    'labels.build = "7"',
    'labels.build IN ("7", "9")',
    "labels.build:*",
    'name:"age-1"',
    'name:"image-1*"',
    'status = "ERROR" AND family = "family-0"',
    'labels.env = "prod" AND status = "ERROR"',
]


@pytest.mark.parametrize("order_by", ORDERS)
@pytest.mark.parametrize("filter_text", SELECTIVE_FILTERS)
def test_filters_read_an_index_never_the_whole_table(images, filter_text, order_by):
    steps, text = plan(filter_text, order_by, deep=True)
    assert not full_scans(steps), text


def test_common_labels_give_the_same_rows_as_rare_ones(db):
    """Past 2,000 matches SQLite probes each image's labels instead of collecting every match."""
    Image.objects.bulk_create(
        Image(
            id=f"com{index:017d}",
            folder_id=FOLDER,
            created_at=T0,
            labels={"env": "prod"} if index % 3 else {"env": "test", "rare": "x"},
        )
        for index in range(3100)
    )
    for text in ('labels.env = "prod"', 'labels.env != "prod"', "labels.env:*", 'labels.env IN ("test")'):
        conditions = parse_filter(text)
        side_table = Image.objects.filter(folder_id=FOLDER).filter(image_filter_q(FOLDER, conditions))
        json_labels = Image.objects.filter(folder_id=FOLDER).filter(filter_q(conditions))
        assert set(side_table.values_list("id", flat=True)) == set(json_labels.values_list("id", flat=True))
        assert side_table.exists()


def test_a_families_page_is_a_range_of_the_summary_index(images):
    from images.domain.families import families_list

    _, token = families_list(folder_id=FOLDER, page_size=2)
    with CaptureQueriesContext(connection) as statements:
        families, _ = families_list(folder_id=FOLDER, page_size=2, page_token=token)
    assert [family.name for family in families] == ["family-2", "family-3"]
    page_sql = statements.captured_queries[0]["sql"]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + page_sql)
            steps = [row[3] for row in cursor.fetchall()]
            # SQLite names a unique constraint's index sqlite_autoindex_<table>_N.
            assert any(
                step.startswith("SEARCH images_imagefamily USING") and "family>?" in step for step in steps
            ), steps
            assert not [step for step in steps if "TEMP B-TREE" in step or step.startswith("SCAN")], steps
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + page_sql)
            text = "\n".join(row[0] for row in cursor.fetchall())
            assert "image_family_unique" in text and "Seq Scan" not in text and "Sort" not in text, text


def test_the_latest_of_a_pages_families_is_one_probe_of_the_summary_index_per_family(images):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    # An execute wrapper sees the compiled reads too (on PostgreSQL their prepared statements run on
    # a cursor of their own, which CaptureQueriesContext does not see).
    with connection.execute_wrapper(record):
        latest = queries.latest_of_families(FOLDER, ["family-1", "family-3", "family-4"])
    assert len(latest) == 3 and len(statements) == 1
    [(sql, params)] = statements
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            steps = [row[3] for row in cursor.fetchall()]
            assert any(
                step.startswith("SEARCH images_imagefamily USING") and "family=?" in step for step in steps
            ), steps
            assert not [step for step in steps if step.startswith("SCAN")], steps
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            text = "\n".join(row[0] for row in cursor.fetchall())
            assert "image_family_unique" in text and "Seq Scan" not in text, text


def test_postgresql_keeps_no_pattern_copy_of_the_image_and_operation_keys(db):
    if connection.vendor != "postgresql":
        pytest.skip("Django adds the _like indexes on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('images_image', 'images_operation')"
            " AND indexdef LIKE '%%varchar_pattern_ops%%'"
        )
        assert cursor.fetchall() == []


@pytest.fixture
def many_named(db):
    """2,100 images of one folder named common-<n> (a search text matching each), and a few others."""
    Image.objects.bulk_create(
        Image(
            id=f"nam{index:017d}",
            folder_id=FOLDER,
            created_at=T0 + dt.timedelta(seconds=index % 50),
            name=f"common-{index}" if index < 2100 else f"seldom-{index}",
            labels={"env": "prod" if index % 3 else "test"},
        )
        for index in range(2110)
    )
    with connection.cursor() as cursor:  # statistics, as a database at scale has them
        cursor.execute("ANALYZE")


@pytest.mark.parametrize("order_by", ORDERS)
def test_a_common_search_text_walks_the_order_index_and_a_rare_one_reads_the_search_index(
    many_named, order_by
):
    """Past 2,000 matches SQLite tests each name along the order's index, stopping after a page,
    instead of collecting every match from the trigram table and sorting them."""
    for deep in (False, True):
        steps, text = plan('name:"common"', order_by, deep=deep)
        assert not full_scans(steps), text
        if connection.vendor == "sqlite":
            assert not sorts(steps), text
            assert not [step for step in steps if "images_image_name_search" in step], text
        with CaptureQueriesContext(connection) as statements:
            steps, text = plan('name:"seldom"', order_by, deep=deep)
        assert not full_scans(steps), text
        if connection.vendor == "sqlite":
            # The few matches are read from the trigram table, then their images by id.
            searches = [
                q["sql"] for q in statements.captured_queries if "images_image_name_search" in q["sql"]
            ]
            assert len(searches) == 1 and "MATCH" in searches[0], statements.captured_queries
            assert all(step.endswith("id=?)") for step in steps if step.startswith("SEARCH images_image ")), (
                text
            )
        else:
            # The few matches are read first, bounded (the trigram index answers LIKE), then their
            # images by id: the page never depends on the planner's guess of how rare the text is.
            searches = [q["sql"] for q in statements.captured_queries if "LIMIT 2000" in q["sql"]]
            assert len(searches) == 1 and "LIKE '%seldom%'" in searches[0], statements.captured_queries


@pytest.mark.parametrize("order_by", ["id", "id desc", "createdAt", "createdAt desc"])
@pytest.mark.parametrize(
    ("filter_text", "values"),
    [
        ('labels.build = "7"', 1),
        ('labels.env = "prod"', 1),
        ('labels.build IN ("7", "9", "13")', 3),
        ('labels.env IN ("prod", "test")', 2),
    ],
)
def test_a_label_equality_or_in_page_is_a_range_of_the_label_index_per_value_in_the_order(
    images, filter_text, values, order_by
):
    """The page's ids come off the label index in the order, from the last row's key on, one range
    per value, and only they are read from the image table (by primary key): no match past the
    page is read or sorted, whether the label is rare or common."""
    index = "image_label_created" if order_by.startswith("createdAt") else "image_label_lookup"
    for deep in (False, True):
        steps, text = plan(filter_text, order_by, deep=deep)
        assert not full_scans(steps), text
        if connection.vendor == "sqlite":
            label_steps = [step for step in steps if f"USING COVERING INDEX {index} " in step]
            image_steps = [step for step in steps if step.startswith("SEARCH images_image ")]
            assert image_steps and all(step.endswith("(id=?)") for step in image_steps), text
        else:
            label_steps = [step for step in steps if f"images_imagelabel {index}" in step]
        assert len(label_steps) == values, text
        assert all("value =" in step or "value=?" in step for step in label_steps), text
        if deep:
            assert all("<" in step or ">" in step for step in label_steps), text


@pytest.mark.parametrize("order_by", ORDERS)
@pytest.mark.parametrize(
    ("in_filter", "equality"),
    [
        ('labels.build IN ("7")', 'labels.build = "7"'),
        ('labels.build IN ("7", "7")', 'labels.build = "7"'),
        ('labels.env NOT IN ("prod")', 'labels.env != "prod"'),
        ('family IN ("family-1")', 'family = "family-1"'),
    ],
)
def test_in_with_one_value_is_planned_as_equality(images, in_filter, equality, order_by):
    for deep in (False, True):
        assert plan(in_filter, order_by, deep=deep)[0] == plan(equality, order_by, deep=deep)[0]


@pytest.mark.parametrize("order_by", ORDERS)
@pytest.mark.parametrize(
    "filter_text",
    [
        'labels.build IN ("7", "9", "13", "21", "none")',
        'labels.env IN ("prod", "test")',
        'labels.env IN ("prod")',
        'labels.env NOT IN ("prod", "none")',
    ],
)
def test_label_in_pages_give_every_match_once_in_order(images, filter_text, order_by):
    conditions = parse_filter(filter_text)
    ordering = parse_order_by(order_by).order_fields()
    expected = list(
        Image.objects.filter(folder_id=FOLDER)
        .filter(filter_q(conditions))
        .order_by(*[("-" if descending else "") + name for name, descending in ordering])
        .values_list("id", flat=True)
    )
    paged, token = [], ""
    while True:
        page, token = queries.image_page(
            FOLDER,
            image_filter(FOLDER, conditions),
            ordering,
            page_size=7,
            page_token=token,
            scope="plans",
        )
        paged += [record.id for record in page]
        if not token:
            break
    assert paged == expected and expected
