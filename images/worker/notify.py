"""LISTEN on PostgreSQL, so an operation another replica accepted starts here at once too."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from images.domain.operations import NOTIFY_CHANNEL
from images.worker.liveness import psycopg_params

log = logging.getLogger(__name__)


def listen_for_replicas(stop: threading.Event, on_created: Callable[[], None], retry_seconds: float) -> None:
    """Calls on_created() for every notification until `stop` is set; reconnects after errors."""
    import psycopg

    params = psycopg_params()
    while not stop.is_set():
        try:
            with psycopg.connect(**params, autocommit=True) as listen:
                listen.execute(f"LISTEN {NOTIFY_CHANNEL}")
                while not stop.is_set():
                    for _ in listen.notifies(timeout=0.25, stop_after=1):
                        on_created()
        except Exception:
            log.exception("listening for operations failed; retrying")
            stop.wait(retry_seconds)
