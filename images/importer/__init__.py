"""Import of a disk image from a URI: policy check, streaming download, inspection, content store.

The backend's worker calls run_import(); Create calls check_url() synchronously so a URI that breaks
the policy is refused before any operation starts. Every exception carries a safe `.message`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from images.importer.errors import (
    FetchFailed,
    ImageRejected,
    ImportCancelled,
    ImporterError,
    ImportStalled,
    UrlRejected,
)
from images.importer.fetch import open_download
from images.importer.inspect import StreamInspector
from images.importer.policy import ImportPolicy, Resolver, Target, check_url, redact_url, resolve
from images.importer.store import BlobStore

__all__ = [
    "BlobStore",
    "FetchFailed",
    "ImageRejected",
    "ImportCancelled",
    "ImportPolicy",
    "ImportResult",
    "ImportStalled",
    "ImporterError",
    "Target",
    "UrlRejected",
    "check_url",
    "redact_url",
    "resolve",
    "run_import",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    sha256: str
    storage_size: int  # bytes stored
    virtual_size: int  # from the image header (the file size for raw)
    disk_format: str  # "qcow2" | "vmdk" | "vhd" | "raw"
    # Seconds per phase: download (network and writing), inspect (header checks), store (fsync, rename).
    phase_seconds: tuple[tuple[str, float], ...] = ()


def run_import(
    url: str,
    *,
    policy: ImportPolicy,
    store: BlobStore,
    cancel: threading.Event,
    progress: Callable[[int, int], None] = lambda done, total: None,
    resolver: Resolver | None = None,
    temp_label: str = "",
) -> ImportResult:
    """Downloads url into store while inspecting it; returns what was stored.

    Raises UrlRejected (the policy refuses the URI), ImageRejected (the content is refused; the
    operation should end INVALID_ARGUMENT), FetchFailed (the download failed), ImportStalled (the
    source sent less than the policy's minimum progress) or ImportCancelled (cancel was set). On any
    of them nothing is left in the store. progress(done, total) is called after every chunk; total
    is 0 when the server did not declare a length. temp_label (the operation id) names the temporary
    file, so BlobStore.remove_temp() finds it after a crash.
    """
    target = check_url(url, policy)
    inspector = StreamInspector()
    try:
        with (
            store.writer(temp_label) as blob,
            open_download(target, policy=policy, cancel=cancel, resolver=resolver) as body,
        ):
            started = time.perf_counter()
            inspecting = 0.0
            progress(0, body.total)
            for chunk in body.chunks():
                before = time.perf_counter()
                inspector.feed(chunk)  # refuses as early as the header allows
                inspecting += time.perf_counter() - before
                blob.write(chunk)
                progress(body.done, body.total)
            if cancel.is_set():
                raise ImportCancelled()
            downloaded = time.perf_counter()
            result = inspector.finish()
            inspected = time.perf_counter()
            sha256 = blob.commit()
            stored = time.perf_counter()
    except ImageRejected as rejected:
        log.info("import from %s refused: %s", target.display_url, rejected.message)
        raise
    log.info(
        "imported %s: %s, virtual size %d, %d bytes stored as %s",
        target.display_url,
        result.disk_format,
        result.virtual_size,
        blob.size,
        sha256,
    )
    return ImportResult(
        sha256=sha256,
        storage_size=blob.size,
        virtual_size=result.virtual_size,
        disk_format=result.disk_format,
        phase_seconds=(
            ("download", downloaded - started - inspecting),
            ("inspect", inspecting + inspected - downloaded),
            ("store", stored - inspected),
        ),
    )
