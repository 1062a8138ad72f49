"""Helpers for tests that run the backend as a separate process against the test database."""

from __future__ import annotations

import socket
from pathlib import Path

from django.db import connection


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (for a process that cannot report its own)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database as a DATABASE_URL, for a process that is not the test run."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgresql://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
