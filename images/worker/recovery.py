"""Start-up recovery: finishes or fails the operations a crash interrupted."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone
from google.rpc import code_pb2

from images import metrics
from images.domain import lifecycle
from images.importer import BlobStore
from images.store.models import Operation, OperationState, Queue
from images.worker import imports
from images.worker.liveness import Liveness

log = logging.getLogger(__name__)


def finish_orphan(operation: Operation) -> None:
    """Ends an operation whose worker died: an import fails (its URI is gone), the rest complete."""
    try:
        if operation.queue == Queue.IMPORT or operation.payload.get("source", {}).get("kind") == "uri":
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
    started = time.perf_counter()
    now = timezone.now()
    orphans = Operation.objects.filter(state=OperationState.RUNNING)
    if liveness is not None:
        owners = set(orphans.values_list("lease_owner", flat=True).distinct())
        dead = [other for other in owners if other != owner and not liveness.is_alive(other)]
        orphans = orphans.filter(Q(lease_expires_at__lt=now) | Q(lease_owner__in=dead))
    handled = 0
    pending = Operation.objects.filter(state=OperationState.PENDING, queue=Queue.DEFAULT)
    for operation in list(orphans.order_by("created_at")) + list(pending.order_by("created_at")):
        log.info("recovering operation %s (%s, %s)", operation.id, operation.kind, operation.state)
        finish_orphan(operation)
        handled += 1
    if connection.vendor == "sqlite":
        # One process owns a SQLite database, so every leftover temp file is a crash's.
        BlobStore(settings.IMAGESERVICE_DATA_DIR).cleanup_temp()
    close_old_connections()
    metrics.RECOVERY_SECONDS.set(time.perf_counter() - started)
    metrics.RECOVERED_OPERATIONS.inc(handled)
    return handled
