"""Operation records: starting one with its idempotency key and lease, reading, finishing.

How an operation runs to its end (completion, rollback, cancel) is images.domain.lifecycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from google.rpc import code_pb2

from images import metrics, rules, telemetry
from images.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, raise_if
from images.store import ids, pagination, queries
from images.store.models import IdempotencyKey, Operation, OperationKind, OperationState, Queue

NOTIFY_CHANNEL = "imageservice_operations"
IDEMPOTENCY_TTL = timedelta(hours=48)  # the contract promises at least 24 hours
MAX_IDEMPOTENCY_KEY = 128
# A running operation's worker renews its lease; one that expired marks a worker that died.
LEASE = timedelta(seconds=30)
MAX_BATCH_GET = 100

DESCRIPTIONS = {
    OperationKind.CREATE: "Create image",
    OperationKind.UPDATE: "Update image",
    OperationKind.DELETE: "Delete image",
}

# Called after a transaction that created or cancelled operations commits (the worker's wake-up).
_listeners: list[Callable[[str, str], None]] = []


def add_listener(listener: Callable[[str, str], None]) -> None:
    """Registers listener(event, operation_id) for "created" and "cancel" events."""
    _listeners.append(listener)


def remove_listener(listener: Callable[[str, str], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def emit_on_commit(event: str, operation_id: str) -> None:
    def fire() -> None:
        for listener in list(_listeners):
            listener(event, operation_id)

    transaction.on_commit(fire)


def find_idempotent(caller_id: str, key: str | None) -> Operation | None:
    """The operation an earlier call with this key started, if any (looked up before validation)."""
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument.field("idempotency-key", f"must be at most {MAX_IDEMPOTENCY_KEY} characters")
    row = (
        IdempotencyKey.objects.filter(caller=caller_id, key=key)
        .values_list("operation_id", flat=True)
        .first()
    )
    if row is None:
        return None
    return Operation.objects.filter(id=row).first()


def start(
    *,
    kind: str,
    image_id: str,
    folder_id: str,
    caller_id: str,
    payload: dict,
    idempotency_key: str | None,
    queue: str = Queue.DEFAULT,
    state: str = OperationState.PENDING,
    lease_owner: str = "",
) -> Operation:
    """Inserts the operation (and its idempotency key); call inside the mutation's transaction."""
    now = timezone.now()
    if telemetry.enabled():  # the worker's span for this operation links to the request's
        payload = {**payload, "traceparent": telemetry.traceparent()}
    operation = Operation(
        id=ids.new_id(ids.OPERATION),
        kind=kind,
        description=DESCRIPTIONS[OperationKind(kind)],
        created_at=now,
        created_by=caller_id,
        modified_at=now,
        image_id=image_id,
        folder_id=folder_id,
        queue=queue,
        state=state,
        payload=payload,
        lease_owner=lease_owner,
        lease_expires_at=now + LEASE if lease_owner else None,
        progress_phase="queued" if queue == Queue.IMPORT else "",
    )
    if idempotency_key:
        IdempotencyKey.objects.create(
            caller=caller_id, key=idempotency_key, operation_id=operation.id, created_at=now
        )
    operation.save(force_insert=True)
    emit_on_commit("created", operation.id)
    transaction.on_commit(metrics.OPERATIONS_STARTED.labels(kind).inc)
    if connection.vendor == "postgresql":
        # Delivered at commit to every replica's worker (see images.worker.notify).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, operation.id])
    return operation


def retry_idempotent(caller_id: str, key: str | None, error: Exception) -> Operation:
    """After a mutation failed (a duplicate insert, a busy or vanished image): the operation a
    concurrent call with the same idempotency key started meanwhile, if any; else re-raise."""
    existing = find_idempotent(caller_id, key)
    if existing is None:
        raise error
    return existing


def get(operation_id: str) -> Operation:
    raise_if(rules.check_id(operation_id, "operation_id"))
    operation = queries.operation_by_id(operation_id)
    if operation is None:
        raise NotFound(f'Operation "{operation_id}" not found')
    return operation


def finish_response(operation: Operation, response_any_bytes: bytes) -> None:
    """Marks the operation done with a response; inside the finishing transaction."""
    _finish(operation, response=response_any_bytes)


def finish_error(operation: Operation, code: int, message: str) -> None:
    """Marks the operation done with an error; inside the finishing transaction."""
    _finish(operation, response=None, error_code=code, error_message=message)


def _finish(operation: Operation, **result) -> None:
    mark_done(operation, **result)
    operation.save()


def mark_done(
    operation: Operation,
    *,
    response: bytes | None = None,
    error_code: int | None = None,
    error_message: str = "",
) -> None:
    """Sets the operation's result fields, unsaved (the caller saves it, or save_results() many)."""
    operation.response = response
    operation.error_code = error_code
    operation.error_message = error_message
    operation.state = OperationState.DONE
    operation.modified_at = timezone.now()
    operation.lease_owner = ""
    operation.lease_expires_at = None
    # Counted once the caller's save (or save_results) commits.
    transaction.on_commit(metrics.OPERATIONS_FINISHED.labels(operation.kind, _outcome(operation)).inc)


def _outcome(operation: Operation) -> str:
    if operation.error_code is None:
        return "done"
    return "cancelled" if operation.error_code == code_pb2.CANCELLED else "failed"


# What finishing an operation writes.
RESULT_FIELDS = (
    "state",
    "response",
    "error_code",
    "error_message",
    "modified_at",
    "lease_owner",
    "lease_expires_at",
)


def save_results(finished: list[Operation]) -> None:
    """Writes the results of many operations marked done in one executemany: each has its own
    response, and Django's bulk_update() spends seconds of Python building CASE expressions for a
    few hundred rows."""
    if not finished:
        return
    meta, quote = Operation._meta, connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if field.name in RESULT_FIELDS]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Only names from the model are formatted in; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(operation, field.attname), connection) for field in fields]
        + [operation.pk]
        for operation in finished
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def busy(image_id: str) -> FailedPrecondition:
    return FailedPrecondition(f'Image "{image_id}" has an operation in progress; wait for it to finish')


def purge_expired_keys() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted


def batch_get(operation_ids: list[str]) -> list[Operation]:
    """The operations with these ids, in request order; unknown ids are left out."""
    operation_ids = list(dict.fromkeys(operation_ids))
    if len(operation_ids) > MAX_BATCH_GET:
        raise InvalidArgument.field("operation_ids", f"at most {MAX_BATCH_GET} operation ids per call")
    if any(rules.check_id(operation_id, "operation_ids") for operation_id in operation_ids):
        raise InvalidArgument.field("operation_ids", "each id must be 1 to 50 characters, without NUL")
    rows = {row.id: row for row in Operation.objects.filter(id__in=operation_ids)}
    return [rows[operation_id] for operation_id in operation_ids if operation_id in rows]


# ListFolderOperations' status filter: which operations each value keeps.
FOLDER_STATUSES = {
    "": Q(),
    "running": ~Q(state=OperationState.DONE),
    "done": Q(state=OperationState.DONE, error_code__isnull=True),
    "failed": Q(state=OperationState.DONE, error_code__isnull=False),
}
MAX_CREATED_BY = 64  # a caller id is an API token's name


def folder_operations(
    *,
    folder_id: str,
    status: str = "",
    created_by: str = "",
    image_id: str = "",
    page_size: int = 0,
    page_token: str = "",
) -> tuple[list[Operation], str]:
    """A page of every operation on the folder's images (whoever started it), newest first.

    `status` is "", "running", "done" (with a response) or "failed" (with an error, cancelled
    ones too); `created_by` keeps one caller's operations; `image_id` one image's, also after the
    image is gone (what became of a failed or cancelled import).
    """
    violations = (
        rules.check_id(folder_id, "folder_id")
        + rules.check_page_size(page_size)
        + rules.check_page_token(page_token)
        + (rules.check_id(image_id, "image_id") if image_id else [])
    )
    if status not in FOLDER_STATUSES:
        violations.append(FieldViolation("status", "must be one of running, done and failed"))
    if len(created_by) > MAX_CREATED_BY or "\x00" in created_by:
        violations.append(
            FieldViolation("created_by", f"must be at most {MAX_CREATED_BY} characters, without NUL")
        )
    raise_if(violations)
    queryset = Operation.objects.filter(FOLDER_STATUSES[status], folder_id=folder_id)
    if created_by:
        queryset = queryset.filter(created_by=created_by)
    if image_id:
        queryset = queryset.filter(image_id=image_id)
    return pagination.keyset_page(
        queryset,
        [("created_at", True), ("id", True)],
        page_size=rules.page_size_or_default(page_size),
        page_token=page_token,
        scope=pagination.token_scope(
            "folder-operations", folder_id, status, created_by, *((image_id,) if image_id else ())
        ),
    )
