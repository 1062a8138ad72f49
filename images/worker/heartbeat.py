"""The heartbeat: renews this worker's leases, passes on cancels requested through another replica,
fails the imports of workers that stopped renewing theirs, and purges old idempotency keys."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import connection
from django.utils import timezone

from images.domain import operations
from images.store.models import Operation, OperationState, Queue
from images.worker.liveness import Liveness
from images.worker.recovery import finish_orphan

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
LEASE_RENEW_SECONDS = 5.0
PURGE_SECONDS = 3600.0


def fail_expired_imports(owner: str, liveness: Liveness | None) -> None:
    """Fails the imports of workers that stopped renewing their leases: the URI died with them.

    Start-up recovery cannot take an import whose lease is still running (its owner may be
    another live replica), so without this a restart soon after a crash left it CREATING.
    """
    expired = Operation.objects.filter(
        queue=Queue.IMPORT, state=OperationState.RUNNING, lease_expires_at__lt=timezone.now()
    ).exclude(lease_owner=owner)
    for operation in expired.order_by("created_at"):
        if liveness is not None and liveness.is_alive(operation.lease_owner):
            continue  # a live replica whose heartbeat stalled keeps its import
        log.info(
            "failing import %s: its worker %s stopped renewing its lease", operation.id, operation.lease_owner
        )
        finish_orphan(operation)


def run_heartbeat(
    *,
    owner: str,
    stop: threading.Event,
    running: Callable[[], dict[str, threading.Event]],
    liveness: Callable[[], Liveness | None],
) -> None:
    """Beats every HEARTBEAT_SECONDS until `stop` is set; `running` gives the cancel events of the
    operations running here."""
    last_renew = 0.0
    last_purge = 0.0
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            here = running()
            if here:
                cancelled = Operation.objects.filter(id__in=list(here), cancel_requested=True).values_list(
                    "id", flat=True
                )
                for operation_id in cancelled:
                    here[operation_id].set()
            now = time.monotonic()
            if now - last_renew >= LEASE_RENEW_SECONDS:
                last_renew = now
                Operation.objects.filter(lease_owner=owner, state=OperationState.RUNNING).update(
                    lease_expires_at=timezone.now() + operations.LEASE
                )
                fail_expired_imports(owner, liveness())
            if now - last_purge >= PURGE_SECONDS:
                last_purge = now
                operations.purge_expired_keys()
        except Exception:
            log.exception("worker heartbeat failed")
    connection.close()
