"""The operations worker: claims persisted operations, runs them, renews leases, recovers at start."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from images import jobs, operations
from images.models import Operation, OperationState

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
HEARTBEAT_SECONDS = 1.0
LEASE_RENEW_SECONDS = 5.0
# Another replica's new operations are noticed by this poll; our own wake a thread at once.
POLL_SECONDS = 1.0
PROGRESS_WRITE_SECONDS = 0.5


def _psycopg_params() -> dict:
    """Connection parameters for a dedicated psycopg connection beside Django's own."""
    return {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in ("context", "cursor_factory", "prepare_threshold", "server_side_binding")
    }


def _noop_progress(phase: str, done: int, total: int) -> None:
    pass


class Worker:
    """Runs operations on `threads` threads; imports on their own `import_slots` threads."""

    def __init__(self, *, threads: int = 2, import_slots: int | None = None, owner: str | None = None):
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self.threads = threads
        self.import_slots = import_slots or settings.IMAGESERVICE_IMPORT_CONCURRENCY
        self._wake = threading.Condition()
        self._signals = 0
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._threads: list[threading.Thread] = []
        self._imports: ThreadPoolExecutor | None = None
        self._running: dict[str, threading.Event] = {}
        self._running_lock = threading.Lock()
        self._liveness = None  # PostgreSQL connection holding this worker's liveness lock

    # --- lifecycle ------------------------------------------------------------------------

    def recover(self) -> int:
        """Finishes or fails operations a crash interrupted; returns how many it handled."""
        now = timezone.now()
        orphans = Operation.objects.filter(state=OperationState.RUNNING)
        if connection.vendor == "postgresql":
            # Several replicas share PostgreSQL: work belongs to a dead worker when its lease
            # expired or when its owner no longer holds its liveness lock (it died just now).
            self._hold_liveness_lock()
            owners = set(orphans.values_list("lease_owner", flat=True).distinct())
            dead = [owner for owner in owners if owner != self.owner and not self._is_alive(owner)]
            orphans = orphans.filter(Q(lease_expires_at__lt=now) | Q(lease_owner__in=dead))
        handled = 0
        for operation in list(orphans.order_by("created_at")) + list(
            Operation.objects.filter(state=OperationState.PENDING, queue="default").order_by("created_at")
        ):
            log.info("recovering operation %s (%s, %s)", operation.id, operation.kind, operation.state)
            # An import's URI lived only in the crashed process's memory, so it fails clearly.
            jobs.run(operation, jobs.JobContext(cancel=threading.Event(), progress=_noop_progress))
            handled += 1
        if connection.vendor == "sqlite":
            # One process owns a SQLite database, so every leftover temp file is a crash's.
            from images.importer import BlobStore

            BlobStore(settings.IMAGESERVICE_DATA_DIR).cleanup_temp()
        close_old_connections()
        return handled

    # --- liveness (PostgreSQL): a session advisory lock per worker, held while it lives ------

    @staticmethod
    def _lock_key(owner: str) -> int:
        return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:8], "big", signed=True)

    def _hold_liveness_lock(self) -> None:
        if self._liveness is not None:
            return
        import psycopg

        self._liveness = psycopg.connect(**_psycopg_params(), autocommit=True)
        self._liveness.execute("SELECT pg_advisory_lock(%s)", [self._lock_key(self.owner)])

    def _is_alive(self, owner: str) -> bool:
        """True while the worker `owner` holds its liveness lock (its session is still open)."""
        key = self._lock_key(owner)
        (acquired,) = self._liveness.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        if acquired:
            self._liveness.execute("SELECT pg_advisory_unlock(%s)", [key])
        return not acquired

    def start(self) -> None:
        operations.add_listener(self._on_event)
        self._imports = ThreadPoolExecutor(max_workers=self.import_slots, thread_name_prefix="import")
        for index in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        heartbeat = threading.Thread(target=self._heartbeat, name="worker-heartbeat", daemon=True)
        heartbeat.start()
        self._threads.append(heartbeat)
        if connection.vendor == "postgresql" and self.threads:
            listener = threading.Thread(target=self._listen_for_replicas, name="worker-listen", daemon=True)
            listener.start()
            self._threads.append(listener)

    def stop(self, timeout: float = 10.0) -> None:
        """Stops claiming; running imports are abandoned (left running) for the next start's recovery."""
        operations.remove_listener(self._on_event)
        self._stop.set()
        self._abandon.set()
        with self._running_lock:
            for event in self._running.values():
                event.set()
        with self._wake:
            self._wake.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._imports is not None:
            self._imports.shutdown(wait=True, cancel_futures=True)
        if self._liveness is not None:
            self._liveness.close()  # releases the liveness lock: our leftovers are now recoverable
            self._liveness = None

    # --- events ---------------------------------------------------------------------------

    def _on_event(self, event: str, operation_id: str) -> None:
        if event == "created":
            with self._wake:
                self._signals += 1
                self._wake.notify()
        elif event == "cancel":
            with self._running_lock:
                cancel = self._running.get(operation_id)
            if cancel is not None:
                cancel.set()

    def submit_import(self, operation_id: str, uri: str) -> None:
        """Runs a freshly created import here: its URI exists only in this process's memory."""
        with self._running_lock:
            if operation_id in self._running or self._imports is None or self._stop.is_set():
                return
            self._running[operation_id] = threading.Event()
        self._imports.submit(self._run_import, operation_id, uri)

    # --- default queue --------------------------------------------------------------------

    def _loop(self) -> None:
        signalled = True
        while not self._stop.is_set():
            try:
                worked = self._process_one(check_first=not signalled)
            except Exception:
                log.exception("processing an operation failed")
                worked = False
                time.sleep(0.2)
            if worked:
                signalled = True
                continue
            with self._wake:
                if self._signals == 0 and not self._stop.is_set():
                    self._wake.wait(POLL_SECONDS)
                signalled = self._signals > 0
                self._signals = 0
        connection.close()

    def _process_one(self, *, check_first: bool) -> bool:
        """Claims one pending operation and finishes it in the same transaction.

        Default-queue work is all database work, so claim and result commit together: a crash
        before the commit leaves the operation pending, never half done, and no lease is needed.
        """
        pending = Operation.objects.filter(queue="default", state=OperationState.PENDING)
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
                jobs.finish_locked(operation)
        except Exception:
            if not claimed:
                raise
            # The transaction rolled back (the operation is pending again): end it with an error.
            log.exception("operation %s failed unexpectedly", claimed)
            jobs.fail(claimed, jobs.INTERNAL, "internal error while running the operation")
        return True

    # --- imports --------------------------------------------------------------------------

    def _run_import(self, operation_id: str, uri: str) -> None:
        from images.importer import BlobStore

        cancel = self._running[operation_id]
        try:
            operation = Operation.objects.filter(id=operation_id).first()
            if operation is None or operation.done:
                return
            context = jobs.JobContext(
                cancel=cancel,
                progress=self._progress_writer(operation_id),
                uri=uri,
                store=BlobStore(settings.IMAGESERVICE_DATA_DIR),
                abandon=self._abandon,
            )
            if operation.cancel_requested:
                cancel.set()
            jobs.run(operation, context)
        except Exception:
            log.exception("import %s failed unexpectedly", operation_id)
        finally:
            with self._running_lock:
                self._running.pop(operation_id, None)
            # Imports are long and rare: no session stays open on an idle import thread, where
            # nothing would close it (PostgreSQL cannot drop a database that has one).
            connection.close()

    @staticmethod
    def _progress_writer(operation_id: str):
        last = [0.0]
        written = [None]

        def write(phase: str, done: int, total: int) -> None:
            # The import offers its newest figure again while it waits, so skipping one is never final.
            if written[0] == (phase, done, total):
                return
            now = time.monotonic()
            if now - last[0] < PROGRESS_WRITE_SECONDS and done != total:
                return
            last[0] = now
            written[0] = (phase, done, total)
            Operation.objects.filter(id=operation_id, state=OperationState.RUNNING).update(
                progress_phase=phase, progress_done=done, progress_total=total
            )

        return write

    def _listen_for_replicas(self) -> None:
        """LISTEN on PostgreSQL, so an operation another replica accepted starts here at once too."""
        import psycopg

        params = _psycopg_params()
        while not self._stop.is_set():
            try:
                with psycopg.connect(**params, autocommit=True) as listen:
                    listen.execute(f"LISTEN {operations.NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for _ in listen.notifies(timeout=0.25, stop_after=1):
                            self._on_event("created", "")
            except Exception:
                log.exception("listening for operations failed; retrying")
                self._stop.wait(POLL_SECONDS)

    # --- heartbeat: leases and cancels requested through another replica ------------------

    def _fail_expired_imports(self) -> None:
        """Fails the imports of workers that stopped renewing their leases: the URI died with them.

        Start-up recovery cannot take an import whose lease is still running (its owner may be
        another live replica), so without this a restart soon after a crash left it CREATING.
        """
        expired = Operation.objects.filter(
            queue="import", state=OperationState.RUNNING, lease_expires_at__lt=timezone.now()
        ).exclude(lease_owner=self.owner)
        for operation in expired.order_by("created_at"):
            if self._liveness is not None and self._is_alive(operation.lease_owner):
                continue  # a live replica whose heartbeat stalled keeps its import
            log.info(
                "failing import %s: its worker %s stopped renewing its lease",
                operation.id,
                operation.lease_owner,
            )
            jobs.run(operation, jobs.JobContext(cancel=threading.Event(), progress=_noop_progress))

    def _heartbeat(self) -> None:
        last_renew = 0.0
        last_purge = 0.0
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with self._running_lock:
                    running = dict(self._running)
                if running:
                    cancelled = Operation.objects.filter(
                        id__in=list(running), cancel_requested=True
                    ).values_list("id", flat=True)
                    for operation_id in cancelled:
                        running[operation_id].set()
                now = time.monotonic()
                if now - last_renew >= LEASE_RENEW_SECONDS:
                    last_renew = now
                    Operation.objects.filter(lease_owner=self.owner, state=OperationState.RUNNING).update(
                        lease_expires_at=timezone.now() + LEASE
                    )
                    self._fail_expired_imports()
                if now - last_purge >= 3600:
                    last_purge = now
                    operations.purge_expired_keys()
            except Exception:
                log.exception("worker heartbeat failed")
        connection.close()
