"""Worker liveness on PostgreSQL: a session advisory lock per worker, held while the worker lives.

Several replicas share one database; an operation belongs to a dead worker when its lease expired
or when its owner no longer holds this lock (it died just now).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import connection


def psycopg_params() -> dict[str, Any]:
    """Connection parameters for a dedicated psycopg connection beside Django's own."""
    return {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in ("context", "cursor_factory", "prepare_threshold", "server_side_binding")
    }


def _lock_key(owner: str) -> int:
    return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:8], "big", signed=True)


class Liveness:
    """Holds `owner`'s liveness lock on its own connection, and tells whether others hold theirs."""

    def __init__(self, owner: str):
        import psycopg

        self._connection = psycopg.connect(**psycopg_params(), autocommit=True)
        self._connection.execute("SELECT pg_advisory_lock(%s)", [_lock_key(owner)])

    def is_alive(self, owner: str) -> bool:
        """True while the worker `owner` holds its liveness lock (its session is still open)."""
        key = _lock_key(owner)
        row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        acquired = bool(row and row[0])
        if acquired:
            self._connection.execute("SELECT pg_advisory_unlock(%s)", [key])
        return not acquired

    def close(self) -> None:
        """Releases the lock: this worker's leftovers are now recoverable by others."""
        self._connection.close()
