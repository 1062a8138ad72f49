"""The import runner: downloads a Create's URI in an isolated process, then finishes the operation.

An import's URI lives only in the memory of the process that accepted it, so an import
interrupted by a crash or an expired lease cannot resume: fail_interrupted() ends it clearly.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from google.rpc import code_pb2

from images import importer, metrics, telemetry
from images.domain import lifecycle
from images.importer.isolated import run_import_isolated
from images.store.models import Operation, OperationState

log = logging.getLogger(__name__)

# Progress reaches the database at most this often (and always at the end of a phase).
PROGRESS_WRITE_SECONDS = 0.5
INTERRUPTED_MESSAGE = "the import was interrupted by a server restart; create the image again"
REFUSED_MESSAGE = "the server could not start the import (it is starting or stopping); create the image again"


class ProgressWriter:
    """Writes an import's progress to its operation, throttled: the one progress throttle of the
    backend's database (the importer's pipe has its own, for the child process)."""

    def __init__(self, operation_id: str, interval: float = PROGRESS_WRITE_SECONDS):
        self.operation_id = operation_id
        self.interval = interval
        self._last = 0.0
        self._written: tuple[str, int, int] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        # The import offers its newest figure again while it waits, so skipping one is never final.
        if self._written == (phase, done, total):
            return
        now = time.monotonic()
        if now - self._last < self.interval and done != total:
            return
        self._last = now
        self._written = (phase, done, total)
        Operation.objects.filter(id=self.operation_id, state=OperationState.RUNNING).update(
            progress_phase=phase, progress_done=done, progress_total=total
        )


def run_import(operation: Operation, uri: str, *, cancel: threading.Event, abandon: threading.Event) -> None:
    """Imports `uri` for the Create `operation` and finishes it: done, failed or cancelled.

    When `abandon` is set (shutdown) the operation is left running, for the next start's recovery.
    """
    tracer = telemetry.tracer(__name__)
    if tracer is None:
        _run_import(operation, uri, cancel=cancel, abandon=abandon)
        return
    with tracer.start_as_current_span(
        "import",
        links=telemetry.link_to(operation.payload.get("traceparent", "")),
        attributes={"operation.id": operation.id},
    ):
        _run_import(operation, uri, cancel=cancel, abandon=abandon)


def _run_import(operation: Operation, uri: str, *, cancel: threading.Event, abandon: threading.Event) -> None:
    progress = ProgressWriter(operation.id)
    downloaded = [0]

    def on_progress(done: int, total: int) -> None:
        if done > downloaded[0]:
            metrics.IMPORT_BYTES.inc(done - downloaded[0])
            downloaded[0] = done
        progress("downloading", done, total)

    imported: lifecycle.ImportedData | None = None
    metrics.IMPORTS_ACTIVE.inc()
    try:
        try:
            result = run_import_isolated(
                uri,
                policy=importer.ImportPolicy.from_settings(),
                store_root=settings.IMAGESERVICE_DATA_DIR,
                cancel=cancel,
                progress=on_progress,
                temp_label=operation.id,
            )
        except importer.ImportCancelled:
            _cancelled(operation, abandon)
            return
        except (importer.ImageRejected, importer.UrlRejected) as rejected:
            metrics.IMPORT_FAILURES.labels(
                "policy" if isinstance(rejected, importer.UrlRejected) else "format"
            ).inc()
            raise lifecycle.OperationFailed(code_pb2.INVALID_ARGUMENT, rejected.message) from rejected
        except importer.ImportStalled as stalled:
            raise lifecycle.OperationFailed(code_pb2.DEADLINE_EXCEEDED, stalled.message) from stalled
        except importer.FetchFailed as failed:
            metrics.IMPORT_FAILURES.labels("stalled" if _stalled(failed.detail) else "download").inc()
            raise lifecycle.OperationFailed(code_pb2.UNAVAILABLE, failed.message) from failed
        for phase, seconds in result.phase_seconds:
            metrics.IMPORT_PHASE_SECONDS.labels(phase).observe(seconds)
        imported = lifecycle.ImportedData(
            blob=result.sha256, storage_size=result.storage_size, virtual_size=result.virtual_size
        )
        if cancel.is_set():
            _cancelled(operation, abandon, imported.blob)
            return
        lifecycle.complete(operation.id, imported)
    except lifecycle.OperationFailed as failure:
        lifecycle.fail(operation.id, failure.code, failure.message, imported.blob if imported else "")
    except Exception:
        metrics.IMPORT_FAILURES.labels("internal").inc()
        log.exception("operation %s failed unexpectedly", operation.id)
        lifecycle.fail(
            operation.id, code_pb2.INTERNAL, lifecycle.INTERNAL_MESSAGE, imported.blob if imported else ""
        )
    finally:
        metrics.IMPORTS_ACTIVE.dec()


def _stalled(detail: str) -> bool:
    """A download that stopped moving: no data within the read timeout, or past its deadline."""
    return detail.startswith("no data for") or "timed out" in detail or "took longer than" in detail


def _cancelled(operation: Operation, abandon: threading.Event, orphan_blob: str = "") -> None:
    if abandon.is_set():
        log.info("operation %s abandoned at shutdown; it is recovered at the next start", operation.id)
        return
    metrics.IMPORT_FAILURES.labels("cancelled").inc()
    lifecycle.fail(operation.id, code_pb2.CANCELLED, lifecycle.CANCELLED_MESSAGE, orphan_blob)


def fail_interrupted(operation: Operation) -> None:
    """Ends an import whose process died: its URI is gone, and so is its partial download."""
    # The interrupted process's partial download is named after the operation.
    importer.BlobStore(settings.IMAGESERVICE_DATA_DIR).remove_temp(operation.id)
    metrics.IMPORT_FAILURES.labels("interrupted").inc()
    lifecycle.fail(operation.id, code_pb2.ABORTED, INTERRUPTED_MESSAGE)


def fail_refused(operation_id: str) -> None:
    """Ends an import no worker of this process can run: its URI would be lost with the process."""
    lifecycle.fail(operation_id, code_pb2.UNAVAILABLE, REFUSED_MESSAGE)
