"""Settings both processes share (the backend's and the dashboard's): paths, secret, database,
time zone, logging; everything comes from the environment. Each process's own settings module
(images.settings, dashboard.settings) builds on this one and installs only its own app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from images.telemetry import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("IMAGESERVICE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite files live here; a fresh clone has none


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'imageservice.sqlite3'}"
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=None))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock when a
        # transaction begins, so two writers queue on the busy timeout instead of failing
        # with "database is locked" when one upgrades a read lock.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
        # Tests need a file, not a shared in-memory database: the gRPC server under test runs
        # in other threads and the crash tests in other processes.
        # One file per test process, so parallel runs on one machine never share it.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-imageservice-{os.getpid()}.sqlite3")}
    else:
        config["CONN_HEALTH_CHECKS"] = True
        # Prepared statements for the compiled reads (images.store.queries): psycopg prepares a
        # query on a server-binding cursor only when this is not None. Django's own cursors bind
        # on the client and never prepare. IMAGESERVICE_PG_PREPARED=0 turns it off for a pooler
        # that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
        if env_bool("IMAGESERVICE_PG_PREPARED", True):
            config["OPTIONS"] = {**config.get("OPTIONS", {}), "prepare_threshold": 0}
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{os.getpid()}"}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# IMAGESERVICE_LOG_FORMAT=json: one JSON object per line; either way no token or query string.
LOGGING = logging_config(
    os.environ.get("IMAGESERVICE_LOG_FORMAT", "plain"), os.environ.get("IMAGESERVICE_LOG_LEVEL", "INFO")
)
