"""One backend process per SQLite database: an OS lock on a file beside it, held while the process lives."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from django.db import connection

_held: list[int] = []  # the lock files' descriptors, open until the process ends


class DatabaseInUse(Exception):
    """Another live process holds the database; the message names the file and that process."""


def lock_sqlite_database() -> None:
    """Takes the SQLite database's process lock, or raises DatabaseInUse. Does nothing on PostgreSQL,
    where replicas share the database.

    flock() belongs to the open file, so the kernel releases it when the process dies however it
    dies: a SIGKILLed server leaves a lock file behind but never a held lock.
    """
    if connection.vendor != "sqlite" or _held:
        return
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        return
    database = Path(name).resolve()
    lock_path = database.with_name(database.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DatabaseInUse(
            f"the SQLite database {database} is in use by another backend process (PID {holder}); "
            "SQLite allows one process, use PostgreSQL for several"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _held.append(fd)
