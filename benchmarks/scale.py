"""Scale benchmark on one database: the operator's queries at BENCH_SCALE_IMAGES images (1,000,000).

Seeds one folder with bulk SQL on the schema before the scale migrations (1,000 families, 1%
ERROR, a few CREATING, labels with common, rare and absent values), times each later migration
as it builds its indexes and side tables over the seeded rows, then measures List(100) p50 through
the real gRPC server for every order (first page and 90% deep), every filter kind (rare, common,
empty), filter + order, the families page and a family timeline. Run by `python -m benchmarks
scale` (make bench-scale) once per database and size; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import time

import django
import grpc

FOLDER = "bench-folder"
IMAGES = int(os.environ.get("BENCH_SCALE_IMAGES", "1000000"))
FAMILIES = int(os.environ.get("BENCH_SCALE_FAMILIES", "1000"))
BEFORE_SCALE = "0003_operation_folder_id"  # the schema a database of the earlier releases has

# Row i: family i % FAMILIES, version i // FAMILIES; ERROR one in 100 (spread over every family),
# CREATING every 200,000th (from the second); env one of three values; build = version (0.1% each
# at 1M); the `hotfix` key on one image in 10,000. Ids are 20 characters, in an order unrelated to creation.
_SQLITE_SEED = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %(count)s)
INSERT INTO images_image (id, folder_id, created_at, name, description, labels, family, storage_size,
    min_disk_size, product_ids, status, os_type, pooled, size, blob, active_operation_id)
SELECT printf('b%%07d%%012d', (i * 7919) %% 1000003, i), %(folder)s,
    datetime('2026-01-01', '+' || i || ' seconds') || '.' || printf('%%06d', (i * 7919) %% 1000000),
    printf('family-%%04d-v%%04d', i %% %(families)s, i / %(families)s), 'benchmark image',
    '{"env": "' || (CASE i %% 3 WHEN 0 THEN 'prod' WHEN 1 THEN 'stage' ELSE 'dev' END)
        || '", "build": "' || (i / %(families)s) || '"'
        || (CASE WHEN i %% 10000 = 7 THEN ', "hotfix": "yes"' ELSE '' END) || '}',
    printf('family-%%04d', i %% %(families)s), 1073741824, 4294967296, '["product-1"]',
    CASE WHEN (i / 7) %% 100 = 0 THEN 3 WHEN i %% 200000 = 1 THEN 1 ELSE 2 END, 1, 0, 4294967296, '', NULL
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
        || CASE WHEN i %% 10000 = 7 THEN '{"hotfix": "yes"}'::jsonb ELSE '{}'::jsonb END,
    'family-' || lpad((i %% %(families)s)::text, 4, '0'), 1073741824, 4294967296, '["product-1"]',
    CASE WHEN (i / 7) %% 100 = 0 THEN 3 WHEN i %% 200000 = 1 THEN 1 ELSE 2 END, 1, false, 4294967296, '', NULL
FROM generate_series(0::bigint, %(count)s - 1) AS i
"""

ORDERS = ["", "id desc", "name", "name desc", "createdAt", "createdAt desc"]
# (filter, order_by, how many it matches at 1M)
FILTERS = {
    "status ERROR (1%)": ('status = "ERROR"', ""),
    "status READY (99%)": ('status = "READY"', ""),
    "status CREATING (5)": ('status = "CREATING"', ""),
    "status DELETING (none)": ('status = "DELETING"', ""),
    "labels.build (0.1%)": ('labels.build = "500"', ""),
    "labels.env (33%)": ('labels.env = "prod"', ""),
    "labels.env (none)": ('labels.env = "nowhere"', ""),
    "labels.hotfix:* (0.01%)": ("labels.hotfix:*", ""),
    "labels.env:* (100%)": ("labels.env:*", ""),
    'name:"v0500" (0.1%)': ('name:"v0500"', ""),
    'name:"family" (100%)': ('name:"family"', ""),
    'name:"zzzz" (none)': ('name:"zzzz"', ""),
    'name:"family-0500*" (0.1%)': ('name:"family-0500*"', "name"),
    "ERROR + createdAt desc": ('status = "ERROR"', "createdAt desc"),
    "labels.env + name": ('labels.env = "prod"', "name"),
    "labels.build + createdAt desc": ('labels.build = "500"', "createdAt desc"),
    "timeline (family, createdAt desc)": ('family = "family-0500"', "createdAt desc"),
}
DEEP_FILTERS = ["ERROR + createdAt desc", "labels.env + name", "timeline (family, createdAt desc)"]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "images.settings")
    os.environ.setdefault("IMAGESERVICE_LOG_LEVEL", "WARNING")
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from images.domain.auth import create_token

    call_command("migrate", verbosity=0)
    call_command("migrate", "images", BEFORE_SCALE, verbosity=0)
    results: dict = {"database": connection.vendor, "images": IMAGES, "families": FAMILIES}
    started = time.perf_counter()
    seed = _SQLITE_SEED if connection.vendor == "sqlite" else _POSTGRESQL_SEED
    with connection.cursor() as cursor:
        cursor.execute(seed, {"count": IMAGES, "families": FAMILIES, "folder": FOLDER})
    results["seed_seconds"] = time.perf_counter() - started

    loader = MigrationLoader(connection)
    later = sorted(name for app, name in loader.disk_migrations if app == "images" and name > BEFORE_SCALE)
    results["migrations"] = {}
    for name in later:
        started = time.perf_counter()
        call_command("migrate", "images", name, verbosity=0)
        results["migrations"][name] = time.perf_counter() - started
    token = create_token(name="bench", role="viewer")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    deep_tokens = {key: _deep_token(filter, order_by) for key, (filter, order_by) in _deep_cases().items()}
    connection.close()

    from benchmarks.harness import free_port, start_backend

    port = free_port()
    server = start_backend(port, "--workers", "1", env=dict(os.environ, IMAGESERVICE_LOG_LEVEL="WARNING"))
    try:
        results["p50"] = _measure(f"127.0.0.1:{port}", token, deep_tokens)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(results))


def _deep_cases() -> dict[str, tuple[str, str]]:
    cases = {f"order {order or 'id'} 90% deep": ("", order) for order in ORDERS}
    cases.update({f"{key} 90% deep": FILTERS[key] for key in DEEP_FILTERS})
    return cases


def _deep_token(filter: str, order_by: str) -> str:
    """The token List hands out after the row 90% into the matches (found by OFFSET, once)."""
    from images.store import filters, pagination, queries

    fields = filters.parse_order_by(order_by).order_fields()
    where = filters.image_filter_q(FOLDER, filters.parse_filter(filter))
    queryset = queries.page_queryset(FOLDER, where, fields, [], IMAGES)
    matches = queryset.count()
    row = queryset.values_list(*[name for name, _ in fields])[matches * 9 // 10]
    return pagination.encode_token(
        [pagination.to_token_value(value) for value in row],
        scope=pagination.token_scope("images", FOLDER, filter, order_by),
    )


def _measure(address: str, token: str, deep_tokens: dict[str, str]) -> dict[str, float]:
    from benchmarks.harness import latency
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

    def p50(call) -> float:
        return latency(call, count=60, warmup=5)["p50"]

    results = {}
    for order in ORDERS:
        results[f"order {order or 'id'} first"] = p50(lambda o=order: page(order_by=o))
    for key, (filter, order_by) in FILTERS.items():
        results[key] = p50(lambda f=filter, o=order_by: page(f, o))
    for key, deep in deep_tokens.items():
        filter, order_by = _deep_cases()[key]
        assert page(filter, order_by, deep).images, key
        results[key] = p50(lambda f=filter, o=order_by, t=deep: page(f, o, t))
    results["families page first"] = p50(families)
    deep = ""
    for _ in range(FAMILIES * 9 // 10 // 100):
        deep = families(deep).next_page_token
    results["families page 90% deep"] = p50(lambda: families(deep))
    channel.close()
    return results


if __name__ == "__main__":
    main()
