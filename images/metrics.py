"""The backend's Prometheus metrics below the gRPC edge: operations, imports, recovery, database.

Counted in every process (an increment costs well under a microsecond, and only per operation or
per list call); served only when the gRPC server is given a metrics port (images.grpc.metrics,
which also owns the per-RPC metrics and the queue gauges read from the database at scrape time).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from images.telemetry import LATENCY_BUCKETS

# Import phases take from milliseconds (a small raw image) to an hour (64 GiB over a slow link).
PHASE_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)

OPERATIONS_STARTED = Counter(
    "imageservice_operations_started", "Operations started (committed), by kind.", ["kind"]
)
OPERATIONS_FINISHED = Counter(
    "imageservice_operations_finished",
    "Operations finished (committed), by kind and outcome: done, failed, cancelled.",
    ["kind", "outcome"],
)
OPERATION_CANCEL_REQUESTS = Counter(
    "imageservice_operation_cancel_requests", "Cancel requests accepted for operations not yet done."
)

IMPORT_BYTES = Counter("imageservice_import_downloaded_bytes", "Bytes downloaded by imports.")
IMPORTS_ACTIVE = Gauge("imageservice_imports_active", "Imports running in this process now.")
IMPORT_PHASE_SECONDS = Histogram(
    "imageservice_import_phase_duration_seconds",
    "Time an import spent in each phase: download, inspect, store.",
    ["phase"],
    buckets=PHASE_BUCKETS,
)
IMPORT_FAILURES = Counter(
    "imageservice_import_failures",
    "Imports that did not finish, by reason: policy, download, format, stalled, cancelled, interrupted, internal.",
    ["reason"],
)
# Every series exists from the start (at 0), so rate() and increase() see the first event.
for _kind in ("create", "update", "delete"):  # images.store.models.OperationKind
    OPERATIONS_STARTED.labels(_kind)
    for _outcome in ("done", "failed", "cancelled"):
        OPERATIONS_FINISHED.labels(_kind, _outcome)
for _reason in ("policy", "download", "format", "stalled", "cancelled", "interrupted", "internal"):
    IMPORT_FAILURES.labels(_reason)
for _phase in ("download", "inspect", "store"):
    IMPORT_PHASE_SECONDS.labels(_phase)

RECOVERY_SECONDS = Gauge(
    "imageservice_recovery_duration_seconds", "How long the last start-up recovery took."
)
RECOVERED_OPERATIONS = Counter(
    "imageservice_recovered_operations", "Operations start-up recovery finished or failed."
)

LIST_QUERY_SECONDS = Histogram(
    "imageservice_db_list_query_duration_seconds",
    "Database time of one List page, by query shape (precompiled: unfiltered; filtered; ordered).",
    ["shape"],
    buckets=LATENCY_BUCKETS,
)
SQLITE_BUSY = Counter(
    "imageservice_db_sqlite_busy",
    "SQLite statements that gave up on a locked database after the busy timeout.",
)
