"""Django settings for the backend (images) and the dashboard; everything comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

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

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "images",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the vendored static files (htmx, CSS) from the app itself: no CDN, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'imageservice.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=None)
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
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{os.getpid()}"}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise also serves straight from static/, so a server works before collectstatic has run.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

# --- Backend (gRPC server) -------------------------------------------------------------------
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
IMAGESERVICE_IMPORT_STALL_BYTES = int(os.environ.get("IMAGESERVICE_IMPORT_STALL_BYTES", str(1024**2)))
IMAGESERVICE_IMPORT_STALL_SECONDS = float(os.environ.get("IMAGESERVICE_IMPORT_STALL_SECONDS", "60"))

# --- Dashboard (gRPC client) -----------------------------------------------------------------
IMAGESERVICE_BACKEND_ADDRESS = os.environ.get("IMAGESERVICE_BACKEND_ADDRESS", "127.0.0.1:50051")
IMAGESERVICE_BACKEND_TLS_CA = os.environ.get("IMAGESERVICE_BACKEND_TLS_CA", "")
IMAGESERVICE_BACKEND_TIMEOUT = float(os.environ.get("IMAGESERVICE_BACKEND_TIMEOUT", "5"))
IMAGESERVICE_DEFAULT_FOLDER = os.environ.get("IMAGESERVICE_DEFAULT_FOLDER", "demo-folder")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("IMAGESERVICE_LOG_LEVEL", "INFO")},
}

# --- Dashboard (web) -------------------------------------------------------------------------
# Login everywhere (views opt out with @login_not_required), a request id per web request that
# the gRPC client forwards, backend errors rendered as pages, and a CSP with no inline code.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
MIDDLEWARE.insert(0, "dashboard.middleware.RequestIdMiddleware")
MIDDLEWARE += [
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "dashboard.middleware.BackendErrorMiddleware",
]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("dashboard.context_processors.dashboard")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
}
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 12 * 3600
# Failed sign-ins: after this many within the window, the username (or client address, at a
# higher bound) waits out the cool-off before the next attempt is even checked.
DASHBOARD_LOGIN_MAX_FAILURES = int(os.environ.get("DASHBOARD_LOGIN_MAX_FAILURES", "5"))
DASHBOARD_LOGIN_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("DASHBOARD_LOGIN_MAX_FAILURES_PER_ADDRESS", "20")
)
DASHBOARD_LOGIN_WINDOW_SECONDS = int(os.environ.get("DASHBOARD_LOGIN_WINDOW_SECONDS", "900"))
DASHBOARD_LOGIN_COOL_OFF_SECONDS = int(os.environ.get("DASHBOARD_LOGIN_COOL_OFF_SECONDS", "300"))

# Every page reads the session, the user, their role and their backend token before the view
# runs. Sessions stay server-side (the token must never reach a cookie): in the database, read
# through a file cache that every worker process on this host shares, so a session read costs no
# query and a write in one worker is seen by the next request in any other. (Not a per-process
# memory cache: a worker would keep reading, and then saving over, a session another one changed.)
# Several hosts need one cache they all share here (Redis, memcached) instead of the directory.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "dashboard-sessions"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},  # Django's own default
    SESSION_CACHE_ALIAS: {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("DASHBOARD_SESSION_CACHE_DIR", str(VAR_DIR / "session-cache")),
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
}
# The user, role and token come from one query and are then kept this long per process
# (dashboard/accounts.py says what that delays and what it never does).
AUTHENTICATION_BACKENDS = ["dashboard.accounts.CachedAccountBackend"]
DASHBOARD_ACCOUNT_CACHE_SECONDS = float(os.environ.get("DASHBOARD_ACCOUNT_CACHE_SECONDS", "5"))
