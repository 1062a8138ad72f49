"""Start-up recovery: finishes or fails the operations a crash interrupted, in batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from google.rpc import code_pb2

from images import metrics
from images.domain import lifecycle
from images.importer import BlobStore
from images.store import locks
from images.store.models import Operation, OperationState, Queue
from images.worker import imports
from images.worker.liveness import Liveness

log = logging.getLogger(__name__)

# Operations finished per transaction: a few statements each, so 1,500 take a few transactions
# instead of 1,500 (issue: 310 one at a time took 9 s on PostgreSQL).
BATCH = 500


def is_import(operation: Operation) -> bool:
    return operation.queue == Queue.IMPORT or operation.payload.get("source", {}).get("kind") == "uri"


def finish_orphan(operation: Operation) -> None:
    """Ends an operation whose worker died: an import fails (its URI is gone), the rest complete."""
    try:
        if is_import(operation):
            imports.fail_interrupted(operation)
        else:
            lifecycle.complete(operation.id)
    except Exception:
        log.exception("operation %s failed unexpectedly", operation.id)
        lifecycle.fail(operation.id, code_pb2.INTERNAL, lifecycle.INTERNAL_MESSAGE)


def recover(owner: str, liveness: Liveness | None) -> int:
    """Finishes or fails operations a crash interrupted; returns how many it handled.

    On PostgreSQL (`liveness` given) only the work of dead workers: an expired lease, or an owner
    that no longer holds its liveness lock.
    """
    started = time.monotonic()
    now = timezone.now()
    orphans = Operation.objects.filter(state=OperationState.RUNNING)
    if liveness is not None:
        owners = set(orphans.values_list("lease_owner", flat=True).distinct())
        dead = [other for other in owners if other != owner and not liveness.is_alive(other)]
        orphans = orphans.filter(Q(lease_expires_at__lt=now) | Q(lease_owner__in=dead))
    pending = Operation.objects.filter(state=OperationState.PENDING, queue=Queue.DEFAULT)
    handled = _in_batches(orphans, _fail_interrupted_batch)
    handled += _in_batches(pending, lifecycle.finish_many_locked)
    if connection.vendor == "sqlite":
        # One process owns a SQLite database, so every leftover temp file is a crash's.
        BlobStore(settings.IMAGESERVICE_DATA_DIR).cleanup_temp()
    close_old_connections()
    elapsed = time.monotonic() - started
    metrics.RECOVERY_SECONDS.set(elapsed)
    metrics.RECOVERED_OPERATIONS.inc(handled)
    log.info("recovered %d operations in %.2f s", handled, elapsed)
    return handled


def _in_batches(queryset: QuerySet, finish: Callable[[list[Operation]], None]) -> int:
    """Runs finish(batch) on the queryset's operations, BATCH at a time, each batch in one
    transaction with its rows locked. A batch that fails is
    rolled back and its operations end one by one, each in its own transaction."""
    ids = list(queryset.order_by("created_at").values_list("id", flat=True))
    handled = 0
    for start in range(0, len(ids), BATCH):
        chunk = queryset.filter(id__in=ids[start : start + BATCH]).order_by("created_at")
        try:
            with transaction.atomic():
                # Waits for rows another replica holds rather than skipping them: SERVING promises
                # the backlog is done. Once it commits, PostgreSQL re-checks the filter, so the
                # rows it finished drop out of the batch.
                batch = list(locks.for_update(chunk))
                finish(batch)
        except Exception:
            log.exception("recovering a batch failed; recovering its operations one by one")
            batch = list(queryset.filter(id__in=ids[start : start + BATCH]))
            for operation in batch:
                finish_orphan(operation)
        handled += len(batch)
    return handled


def _fail_interrupted_batch(batch: list[Operation]) -> None:
    """Interrupted imports fail (their URIs died with the process, their partial downloads go);
    anything else that was running completes, one by one."""
    interrupted = [operation for operation in batch if is_import(operation)]
    store = BlobStore(settings.IMAGESERVICE_DATA_DIR)
    for operation in interrupted:
        store.remove_temp(operation.id)
    lifecycle.fail_many_locked(interrupted, code_pb2.ABORTED, imports.INTERRUPTED_MESSAGE)
    for operation in batch:
        if not is_import(operation):
            lifecycle.finish_locked(operation)
