"""run_import in a child process: parsing untrusted images away from the server, at low priority.

The server's threads answer metadata calls; an import spends its time hashing, inspecting and
copying bytes. In a child process it cannot hold the server's GIL, it runs niced so the kernel
prefers the server when the CPUs are busy, and a parser bug in it cannot take the server down.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from images.importer import ImportResult, run_import
from images.importer.errors import FetchFailed, ImporterError
from images.importer.policy import ImportPolicy
from images.importer.store import BlobStore

log = logging.getLogger(__name__)

NICE = 10
PROGRESS_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1
# A fresh interpreter: forking a process that runs gRPC threads is unsafe.
_CONTEXT = multiprocessing.get_context("spawn")


def run_import_isolated(
    url: str,
    *,
    policy: ImportPolicy,
    store_root: Path,
    cancel: threading.Event,
    progress: Callable[[int, int], None] = lambda done, total: None,
    temp_label: str = "",
) -> ImportResult:
    """Same contract as run_import; the work happens in a niced child process."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child_cancel = _CONTEXT.Event()
    process = _CONTEXT.Process(
        target=_child,
        args=(url, policy, str(store_root), sender, child_cancel, temp_label, os.getpid()),
        name="image-import",
        daemon=True,
    )
    process.start()
    sender.close()
    latest = None
    try:
        while True:
            if cancel.is_set():
                child_cancel.set()
            if receiver.poll(0.1):
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    raise FetchFailed("the import process ended without a result") from None
                if kind == "progress":
                    latest = payload
                    progress(*payload)
                elif kind == "result":
                    return payload
                else:
                    raise payload
            elif not process.is_alive():
                raise FetchFailed(f"the import process exited with code {process.exitcode}")
            elif latest is not None:
                # progress() may throttle: offer the newest figure again, so a stall never hides it.
                progress(*latest)
    finally:
        receiver.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def _child(
    url: str, policy: ImportPolicy, store_root: str, sender, cancel, temp_label: str, server_pid: int
) -> None:
    # Die with the server (a SIGKILLed server leaves no orphan import behind).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
    if os.getppid() != server_pid:
        os._exit(1)  # the server died while this process started, before the death signal was set
    os.nice(NICE)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    local_cancel = threading.Event()
    sending = threading.Lock()  # the import and the watcher both send
    newest: list = [None]  # the progress not sent yet
    last = [0.0]
    finished = [False]

    def send_progress() -> None:
        with sending:
            if newest[0] is None or finished[0] or time.monotonic() - last[0] < PROGRESS_SECONDS:
                return
            sender.send(("progress", newest[0]))
            newest[0] = None
            last[0] = time.monotonic()

    def progress(done: int, total: int) -> None:
        if cancel.is_set():
            local_cancel.set()
        newest[0] = (done, total)
        send_progress()

    def watch() -> None:
        # A stalled server sends no chunks: the newest progress still goes out (a throttled figure
        # is sent late, never dropped), and the fetcher checks local_cancel every read timeout.
        while not cancel.wait(PROGRESS_SECONDS):
            send_progress()
        local_cancel.set()

    outcome: tuple[str, ImportResult | ImporterError]
    threading.Thread(target=watch, daemon=True).start()
    try:
        result = run_import(
            url,
            policy=policy,
            store=BlobStore(store_root),
            cancel=local_cancel,
            progress=progress,
            temp_label=temp_label,
        )
    except ImporterError as error:
        outcome = ("error", error)
    except Exception:
        logging.getLogger(__name__).exception("import failed unexpectedly")
        outcome = ("error", FetchFailed("unexpected error in the import process"))
    else:
        outcome = ("result", result)
    with sending:
        finished[0] = True
        try:
            sender.send(outcome)
        finally:
            sender.close()
