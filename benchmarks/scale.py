"""Scale benchmark on one database: the operator's queries at BENCH_SCALE_IMAGES images (1,000,000).

Seeds one folder with bulk SQL on the schema before the scale migrations (BENCH_SCALE_FAMILIES
families, 1% ERROR, a few CREATING, labels with common, rare and absent values), times each later
migration as it builds its indexes and side tables over the seeded rows, then measures p50 through
the real gRPC server: List(100) for every order (first page and 90% deep), every filter kind (rare,
common, empty), filter + order, ListFamilies and a family timeline; and the dashboard's pages
(full page and HTMX fragment, through Django's test client in this process, each render making its
real gRPC calls) for the image list under the operator's filters, the families page and a family's
timeline. BENCH_SCALE_CASES=families measures only the families' cases (the run at 10,000
families). Run by `python -m benchmarks scale` (make bench-scale) once per database, size and
family count; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import django
import grpc

FOLDER = "bench-folder"
IMAGES = int(os.environ.get("BENCH_SCALE_IMAGES", "1000000"))
FAMILIES = int(os.environ.get("BENCH_SCALE_FAMILIES", "1000"))
# "all", or "families": the families' cases only (ListFamilies, the timeline, their dashboard pages).
CASES = os.environ.get("BENCH_SCALE_CASES", "all")
# Run alone, after measuring, this many images more go into SEED_FOLDER through the ORM, timed.
ORM_SEED = 20000
SEED_FOLDER = "bench-seed-folder"
BEFORE_SCALE = "0003_operation_folder_id"  # the schema a database of the earlier releases has

# Row i: family i % FAMILIES, version i // FAMILIES; ERROR one in 100 (spread over every family),
# CREATING five (rows 1, 11, … 41, at any size); env one of three values; build = version (0.1% each
# at 1M); the `hotfix` key on one image in 1,000 of the first 100,000 (100 images at any size, 0.01% at
# 1M). Ids are 20 characters, in an order unrelated to creation. Rows from `start` on (0 for the
# folder measured; past its rows for the timed inserts into other folders, so ids stay unique).
_SQLITE_SEED = """
WITH RECURSIVE n(i) AS (SELECT %(start)s UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %(start)s + %(count)s)
INSERT INTO images_image (id, folder_id, created_at, name, description, labels, family, storage_size,
    min_disk_size, product_ids, status, os_type, pooled, size, blob, active_operation_id)
SELECT printf('b%%07d%%012d', (i * 7919) %% 1000003, i), %(folder)s,
    datetime('2026-01-01', '+' || i || ' seconds') || '.' || printf('%%06d', (i * 7919) %% 1000000),
    printf('family-%%04d-v%%04d', i %% %(families)s, i / %(families)s), 'benchmark image',
    '{"env": "' || (CASE i %% 3 WHEN 0 THEN 'prod' WHEN 1 THEN 'stage' ELSE 'dev' END)
        || '", "build": "' || (i / %(families)s) || '"'
        || (CASE WHEN i %% 1000 = 7 AND i < 100000 THEN ', "hotfix": "yes"' ELSE '' END) || '}',
    printf('family-%%04d', i %% %(families)s), 1073741824, 4294967296, '["product-1"]',
    CASE WHEN i < 50 AND i %% 10 = 1 THEN 1 WHEN (i / 7) %% 100 = 0 THEN 3 ELSE 2 END, 1, 0, 4294967296, '', NULL
FROM n
"""
_POSTGRESQL_SEED = """
INSERT INTO images_image (id, folder_id, created_at, name, description, labels, family, storage_size,
    min_disk_size, product_ids, status, os_type, pooled, size, blob, active_operation_id)
SELECT 'b' || lpad(((i * 7919) %% 1000003)::text, 7, '0') || lpad(i::text, 12, '0'), %(folder)s,
    timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second'
        + ((i * 7919) %% 1000000) * interval '1 microsecond',
    'family-' || lpad((i %% %(families)s)::text, 4, '0') || '-v' || lpad((i / %(families)s)::text, 4, '0'),
    'benchmark image',
    jsonb_build_object('env', (ARRAY['prod', 'stage', 'dev'])[i %% 3 + 1], 'build', (i / %(families)s)::text)
        || CASE WHEN i %% 1000 = 7 AND i < 100000 THEN '{"hotfix": "yes"}'::jsonb ELSE '{}'::jsonb END,
    'family-' || lpad((i %% %(families)s)::text, 4, '0'), 1073741824, 4294967296, '["product-1"]',
    CASE WHEN i < 50 AND i %% 10 = 1 THEN 1 WHEN (i / 7) %% 100 = 0 THEN 3 ELSE 2 END, 1, false, 4294967296, '', NULL
FROM generate_series(%(start)s::bigint, %(start)s + %(count)s - 1) AS i
"""

TIMELINE_FAMILY = f"family-{FAMILIES // 2:04d}"
ORDERS = ["", "id desc", "name", "name desc", "createdAt", "createdAt desc"]
# (filter, order_by), named with how many they match at 1M. The rare values (build 50, version 50)
# match the same 1,000 images at 100,000 and at 1,000,000, so the ratio compares like with like.
FILTERS = {
    "status ERROR (1%)": ('status = "ERROR"', ""),
    "status READY (99%)": ('status = "READY"', ""),
    "status CREATING (5)": ('status = "CREATING"', ""),
    "status DELETING (none)": ('status = "DELETING"', ""),
    "labels.build (0.1%)": ('labels.build = "50"', ""),
    "labels.env (33%)": ('labels.env = "prod"', ""),
    "labels.env (none)": ('labels.env = "nowhere"', ""),
    "labels.hotfix:* (0.01%)": ("labels.hotfix:*", ""),
    "labels.env:* (100%)": ("labels.env:*", ""),
    'name:"v0050" (0.1%)': ('name:"v0050"', ""),
    'name:"v0050" + createdAt desc': ('name:"v0050"', "createdAt desc"),
    'name:"family" (100%)': ('name:"family"', ""),
    'name:"zzzz" (none)': ('name:"zzzz"', ""),
    'name:"family-0500*" (0.1%)': ('name:"family-0500*"', "name"),
    "ERROR + createdAt desc": ('status = "ERROR"', "createdAt desc"),
    "labels.env + name": ('labels.env = "prod"', "name"),
    "labels.build + createdAt desc": ('labels.build = "50"', "createdAt desc"),
}
TIMELINE = {"timeline (family, createdAt desc)": (f'family = "{TIMELINE_FAMILY}"', "createdAt desc")}
DEEP_FILTERS = ["ERROR + createdAt desc", "labels.env + name"]
EMPTY_CASES = {key for key in FILTERS if key.endswith("(none)")}

# The dashboard's image list (50 rows, newest first unless sorted) under the operator's filters,
# as the filter form puts them in the URL.
LIST_URL = f"/f/{FOLDER}/images/"
DASHBOARD_LISTS = {
    "image list": "",
    "image list, status ERROR": "?status=ERROR",
    "image list, labels build=50 (0.1%)": "?labels=build%3D50",
    "image list, labels env=prod + name": "?labels=env%3Dprod&sort=name",
    'image list, name contains "v0050"': "?name=v0050",
}
FAMILIES_URL = f"/f/{FOLDER}/families/"
TIMELINE_URL = f"/f/{FOLDER}/families/{TIMELINE_FAMILY}/"


def main() -> None:
    # This process seeds the database and drives the dashboard's views, as the test run does, so it
    # installs both apps; the backend it starts gets the backend's own settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("IMAGESERVICE_LOG_LEVEL", "WARNING")
    from benchmarks.harness import free_port, start_backend

    port = free_port()
    os.environ["IMAGESERVICE_BACKEND_ADDRESS"] = f"127.0.0.1:{port}"
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from images.domain.auth import create_token

    settings.ALLOWED_HOSTS = ["*"]
    results: dict = {
        "database": connection.vendor,
        "images": IMAGES,
        "families": FAMILIES,
        "cases": CASES,
        "load_before": os.getloadavg(),
    }
    call_command("migrate", verbosity=0)
    call_command("migrate", "images", BEFORE_SCALE, verbosity=0)
    started = time.perf_counter()
    seed = _SQLITE_SEED if connection.vendor == "sqlite" else _POSTGRESQL_SEED
    with connection.cursor() as cursor:
        cursor.execute(seed, {"start": 0, "count": IMAGES, "families": FAMILIES, "folder": FOLDER})
    results["seed_seconds"] = time.perf_counter() - started

    loader = MigrationLoader(connection)
    later = sorted(name for app, name in loader.disk_migrations if app == "images" and name > BEFORE_SCALE)
    results["migrations"] = {}
    for name in later:
        started = time.perf_counter()
        call_command("migrate", "images", name, verbosity=0)
        results["migrations"][name] = time.perf_counter() - started
    token = create_token(name="bench", role="viewer")
    call_command("createdashboarduser", "bench", role="viewer", password="bench-password-1", token=token)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    deep_tokens = {key: deep_token(FOLDER, *case) for key, case in _deep_cases().items()}
    connection.close()

    server = start_backend(port, "--workers", "1", env=dict(os.environ, IMAGESERVICE_LOG_LEVEL="WARNING"))
    try:
        cases, results["rows"] = _cases(f"127.0.0.1:{port}", token, deep_tokens)
        if os.environ.get("BENCH_SCALE_SERVE") == "1":
            _serve(cases, results)
        else:
            results["p50"] = {key: _p50(call) for key, call in cases.items()}
            results["orm_seed_seconds"] = _orm_seed(ORM_SEED, SEED_FOLDER)
            results["orm_seed_images"] = ORM_SEED
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results), flush=True)


def _serve(cases: dict[str, Callable[[], object]], results: dict) -> None:
    """Measures on request, one JSON line in and one out, so that `python -m benchmarks scale` can
    take turns between the runs it holds open: every size then sees the same load of a shared
    machine. Says {"ready": …} first; then {"measure": case, "count": n} → {"samples": [ms, …]},
    {"seed": n, "folder": f} → {"seconds": s} (through the ORM), {"sql_seed": n, "folder": f, "start": i}
    → {"seconds": s} (the bulk SQL), and {"quit": true} ends (main prints the results)."""
    from benchmarks.harness import samples

    print(json.dumps({"ready": True, "cases": list(cases), "rows": results["rows"]}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if "measure" in command:
            reply: dict = {"samples": samples(cases[command["measure"]], count=command["count"], warmup=2)}
        elif "seed" in command:
            reply = {"seconds": _orm_seed(command["seed"], command["folder"])}
        elif "sql_seed" in command:
            reply = {"seconds": _sql_seed(command["sql_seed"], command["folder"], command["start"])}
        else:
            return
        print(json.dumps(reply), flush=True)


def _sql_seed(count: int, folder: str, start: int) -> float:
    """Seconds to insert `count` images into `folder` with the bulk SQL, on today's schema: the image
    table, its indexes and the triggers (family summary; on SQLite the name search table), without
    the label rows, which the ORM writes."""
    from django.db import connection

    seed = _SQLITE_SEED if connection.vendor == "sqlite" else _POSTGRESQL_SEED
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(seed, {"start": start, "count": count, "families": FAMILIES, "folder": folder})
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def _orm_seed(count: int, folder: str) -> float:
    """Seconds to seed `count` images into `folder` on today's schema by the product's bulk path
    (Image.objects.bulk_create: label rows, family summary and name search triggers)."""
    from django.db import connection

    from benchmarks.seed import seed_images

    started = time.perf_counter()
    seed_images(folder, count=count, families=FAMILIES)
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def _grpc_cases() -> dict[str, tuple[str, str]]:
    return {**(FILTERS if CASES == "all" else {}), **TIMELINE}


def _deep_cases() -> dict[str, tuple[str, str]]:
    cases = {}
    if CASES == "all":
        cases.update({f"order {order or 'id'} 90% deep": ("", order) for order in ORDERS})
        cases.update({f"{key} 90% deep": FILTERS[key] for key in DEEP_FILTERS})
    cases.update({f"{key} 90% deep": case for key, case in TIMELINE.items()})
    return cases


def deep_token(folder: str, filter: str, order_by: str, page_size: int = 100) -> str:
    """The token List hands out after the row 90% into the matches, or as deep as still leaves a
    full page (so a page at 100,000 and one at 1,000,000 hold the same rows: a family of 100 images
    would leave 10 and one of 1,000 a hundred); found by OFFSET, once, and signed with the same key
    as the server's, so this process needs the same settings' SECRET_KEY."""
    from images.store import filters, pagination, queries

    fields = filters.parse_order_by(order_by).order_fields()
    where = filters.image_filter_q(folder, filters.parse_filter(filter))
    queryset = queries.page_queryset(folder, where, fields, [], 1 << 40)
    matches = queryset.count()
    row = queryset.values_list(*[name for name, _ in fields])[
        max(0, min(matches * 9 // 10, matches - page_size - 1))
    ]
    return pagination.encode_token(
        [pagination.to_token_value(value) for value in row],
        scope=pagination.token_scope("images", folder, filter, order_by),
    )


def _p50(call) -> float:
    from benchmarks.harness import latency

    return latency(call, count=60, warmup=5)["p50"]


def _cases(
    address: str, token: str, deep_tokens: dict[str, str]
) -> tuple[dict[str, Callable[[], object]], dict[str, int]]:
    """Every measured call by name (gRPC through `address`, then the dashboard's pages), and the
    rows each gRPC call returns (called once here), so a ratio is seen to compare pages of equal rows."""
    from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2_grpc

    channel = grpc.insecure_channel(address)
    metadata = (("authorization", f"Bearer {token}"),)
    images = image_service_pb2_grpc.ImageServiceStub(channel)
    extension = extension_pb2_grpc.ImageExtensionServiceStub(channel)

    def page(filter: str = "", order_by: str = "", page_token: str = ""):
        request = isv.ListImagesRequest(
            folder_id=FOLDER, page_size=100, filter=filter, order_by=order_by, page_token=page_token
        )
        return images.List(request, metadata=metadata, timeout=60)

    def families(page_token: str = ""):
        request = extension_pb2.ListFamiliesRequest(folder_id=FOLDER, page_size=100, page_token=page_token)
        return extension.ListFamilies(request, metadata=metadata, timeout=60)

    cases: dict[str, Callable[[], object]] = {}
    if CASES == "all":
        for order in ORDERS:
            cases[f"order {order or 'id'} first"] = lambda o=order: page(order_by=o)
    for key, (filter, order_by) in _grpc_cases().items():
        cases[key] = lambda f=filter, o=order_by: page(f, o)
    for key, deep in deep_tokens.items():
        filter, order_by = _deep_cases()[key]
        cases[key] = lambda f=filter, o=order_by, t=deep: page(f, o, t)
    cases["families page first"] = families
    deep = ""
    for _ in range(FAMILIES * 9 // 10 // 100):
        deep = families(deep).next_page_token
    cases["families page 90% deep"] = lambda: families(deep)
    rows = {}
    for key, call in cases.items():
        reply: Any = call()
        rows[key] = len(reply.images) if hasattr(reply, "images") else len(reply.families)
        assert rows[key] or key in EMPTY_CASES, f"{key} returned nothing"
    cases.update(_dashboard_cases(deep))
    return cases, rows


def _dashboard_cases(families_deep: str) -> dict[str, Callable[[], object]]:
    """Server time of the dashboard's pages, full and as the HTMX fragment a filter change or a
    pager click fetches, with the session of a signed-in viewer."""
    from urllib.parse import urlencode

    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    pages = (
        {}
        if CASES != "all"
        else {f"dashboard {key}": LIST_URL + query for key, query in DASHBOARD_LISTS.items()}
    )
    pages["dashboard families"] = FAMILIES_URL
    pages["dashboard families 90% deep"] = FAMILIES_URL + "?" + urlencode({"page": families_deep})
    pages["dashboard family timeline"] = TIMELINE_URL
    cases = {}
    for key, url in pages.items():
        for kind, headers in (("page", {}), ("fragment", {"HX-Request": "true"})):

            def get(url=url, headers=headers):
                response = client.get(url, headers=headers)
                assert response.status_code == 200, (url, response.status_code)
                return response

            content = get().content
            # A table's head and at least one row, or a timeline's versions: the page shows results.
            assert content.count(b"<tr") >= 2 or b'class="version' in content, f"{url} shows nothing"
            cases[f"{key} {kind}"] = get
    return cases


if __name__ == "__main__":
    main()
