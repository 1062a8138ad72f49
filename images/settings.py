"""Settings of the backend process (`manage.py grpcserver` and the backend's commands): the
shared base plus the images app and the gRPC server's settings; no dashboard, no web stack."""

from __future__ import annotations

import os
from pathlib import Path

from images.settings_base import *  # noqa: F403
from images.settings_base import SECRET_KEY, VAR_DIR, env_bool, env_list

INSTALLED_APPS = ["images"]

IMAGESERVICE_GRPC_HOST = os.environ.get("IMAGESERVICE_GRPC_HOST", "127.0.0.1")
IMAGESERVICE_GRPC_PORT = int(os.environ.get("IMAGESERVICE_GRPC_PORT", "50051"))
IMAGESERVICE_GRPC_WORKERS = int(os.environ.get("IMAGESERVICE_GRPC_WORKERS", "4"))
IMAGESERVICE_TLS_CERT = os.environ.get("IMAGESERVICE_TLS_CERT", "")
IMAGESERVICE_TLS_KEY = os.environ.get("IMAGESERVICE_TLS_KEY", "")
# Keys signing page tokens; derived from SECRET_KEY unless given.
IMAGESERVICE_TOKEN_KEY = os.environ.get("IMAGESERVICE_TOKEN_KEY", SECRET_KEY)
IMAGESERVICE_DATA_DIR = Path(os.environ.get("IMAGESERVICE_DATA_DIR", VAR_DIR / "data"))
IMAGESERVICE_IMPORT_ALLOWED_HOSTS = env_list("IMAGESERVICE_IMPORT_ALLOWED_HOSTS", "storage.yandexcloud.net")
IMAGESERVICE_IMPORT_ALLOW_HTTP = env_bool("IMAGESERVICE_IMPORT_ALLOW_HTTP", False)
IMAGESERVICE_IMPORT_CONCURRENCY = int(os.environ.get("IMAGESERVICE_IMPORT_CONCURRENCY", "2"))
IMAGESERVICE_IMPORT_MAX_BYTES = int(os.environ.get("IMAGESERVICE_IMPORT_MAX_BYTES", str(64 * 1024**3)))
# Prometheus metrics over HTTP at /metrics on this port (off when unset), on loopback unless told.
IMAGESERVICE_METRICS_PORT = (
    int(os.environ["IMAGESERVICE_METRICS_PORT"]) if os.environ.get("IMAGESERVICE_METRICS_PORT") else None
)
IMAGESERVICE_METRICS_HOST = os.environ.get("IMAGESERVICE_METRICS_HOST", "127.0.0.1")
# Minimum progress of an import: fewer than STALL_BYTES in any STALL_SECONDS window ends it.
IMAGESERVICE_IMPORT_STALL_BYTES = int(os.environ.get("IMAGESERVICE_IMPORT_STALL_BYTES", str(1024**2)))
IMAGESERVICE_IMPORT_STALL_SECONDS = float(os.environ.get("IMAGESERVICE_IMPORT_STALL_SECONDS", "60"))
