"""The Worker: its threads (claim loop, import pool, heartbeat, LISTEN) and their start and stop."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from images.domain import operations
from images.store.models import Operation
from images.worker import claim, imports, recovery
from images.worker.heartbeat import run_heartbeat
from images.worker.liveness import Liveness
from images.worker.notify import listen_for_replicas

log = logging.getLogger(__name__)

# Another replica's new operations are noticed by this poll; our own wake a thread at once.
POLL_SECONDS = 1.0


class Worker:
    """Runs operations on `threads` threads; imports on their own `import_slots` threads.

    It is also the domain's ImportRunner: Create hands it each accepted import.
    """

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
        self._liveness: Liveness | None = None  # PostgreSQL only

    def recover(self) -> int:
        """Finishes or fails operations a crash interrupted; returns how many it handled."""
        if connection.vendor == "postgresql" and self._liveness is None:
            self._liveness = Liveness(self.owner)
        return recovery.recover(self.owner, self._liveness)

    def start(self) -> None:
        operations.add_listener(self._on_event)
        self._imports = ThreadPoolExecutor(max_workers=self.import_slots, thread_name_prefix="import")
        self._spawn("worker-heartbeat", self._heartbeat)
        for index in range(self.threads):
            self._spawn(f"worker-{index}", self._loop)
        if connection.vendor == "postgresql" and self.threads:
            self._spawn(
                "worker-listen", lambda: listen_for_replicas(self._stop, self._wake_one, POLL_SECONDS)
            )

    def _spawn(self, name: str, target) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

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
            self._liveness.close()  # our leftovers are now recoverable
            self._liveness = None

    # Events from the domain (after the commit that created or cancelled an operation).

    def _on_event(self, event: str, operation_id: str) -> None:
        if event == "created":
            self._wake_one()
        elif event == "cancel":
            with self._running_lock:
                cancel = self._running.get(operation_id)
            if cancel is not None:
                cancel.set()

    def _wake_one(self) -> None:
        with self._wake:
            self._signals += 1
            self._wake.notify()

    # The default queue.

    def _loop(self) -> None:
        signalled = True
        while not self._stop.is_set():
            try:
                worked = claim.process_one(check_first=not signalled)
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

    # Imports.

    def submit_import(self, operation_id: str, uri: str) -> None:
        """Runs a freshly created import here: its URI exists only in this process's memory.

        A worker that cannot take it (not started, or stopping) ends it UNAVAILABLE at once, never
        leaving it running with a lease this worker would renew and nothing to run it.
        """
        with self._running_lock:
            if operation_id in self._running:
                return
            pool = None if self._stop.is_set() else self._imports
            if pool is not None:
                self._running[operation_id] = threading.Event()
        if pool is None:
            log.error("import %s refused: the worker is not running", operation_id)
            imports.fail_refused(operation_id)
            return
        pool.submit(self._run_import, operation_id, uri)

    def _run_import(self, operation_id: str, uri: str) -> None:
        cancel = self._running[operation_id]
        try:
            operation = Operation.objects.filter(id=operation_id).first()
            if operation is None or operation.done:
                return
            if operation.cancel_requested:
                cancel.set()
            imports.run_import(operation, uri, cancel=cancel, abandon=self._abandon)
        except Exception:
            log.exception("import %s failed unexpectedly", operation_id)
        finally:
            with self._running_lock:
                self._running.pop(operation_id, None)
            # Imports are long and rare: no session stays open on an idle import thread, where
            # nothing would close it (PostgreSQL cannot drop a database that has one).
            connection.close()

    def _heartbeat(self) -> None:
        run_heartbeat(
            owner=self.owner, stop=self._stop, running=self._running_snapshot, liveness=lambda: self._liveness
        )

    def _running_snapshot(self) -> dict[str, threading.Event]:
        with self._running_lock:
            return dict(self._running)
