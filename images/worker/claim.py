"""The default queue: claim one pending operation and finish it in the same transaction."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from google.rpc import code_pb2

from images import telemetry
from images.domain import lifecycle
from images.store.models import Operation, OperationState, Queue

log = logging.getLogger(__name__)


def process_one(*, check_first: bool) -> bool:
    """Claims one pending operation and finishes it; False when the queue was empty.

    Default-queue work is all database work, so claim and result commit together: a crash
    before the commit leaves the operation pending, never half done, and no lease is needed.
    """
    pending = Operation.objects.filter(queue=Queue.DEFAULT, state=OperationState.PENDING)
    # After an idle timeout, a cheap read first: an empty queue must not take SQLite's write lock.
    if check_first and not pending.exists():
        return False
    claimed = ""
    try:
        with transaction.atomic():
            queryset = pending.order_by("created_at")
            if connection.vendor == "postgresql":
                queryset = queryset.select_for_update(skip_locked=True)
            operation = queryset.first()
            if operation is None:
                return False
            claimed = operation.id
            tracer = telemetry.tracer(__name__)
            if tracer is None:
                lifecycle.finish_locked(operation)
            else:
                with tracer.start_as_current_span(
                    f"operation {operation.kind}",
                    links=telemetry.link_to(operation.payload.get("traceparent", "")),
                    attributes={"operation.id": operation.id},
                ):
                    lifecycle.finish_locked(operation)
    except Exception:
        if not claimed:
            raise
        # The transaction rolled back (the operation is pending again): end it with an error.
        log.exception("operation %s failed unexpectedly", claimed)
        lifecycle.fail(claimed, code_pb2.INTERNAL, lifecycle.INTERNAL_MESSAGE)
    return True
