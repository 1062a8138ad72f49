"""Settings of the dashboard process (gunicorn `dashboard.wsgi`, and the dashboard's commands): the
shared base plus the dashboard app and the web stack; the backend is reached only over gRPC."""

from __future__ import annotations

import os

from images.settings_base import *  # noqa: F403
from images.settings_base import BASE_DIR, VAR_DIR, env_bool

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the vendored static files (htmx, CSS) from the app itself: no CDN, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses the HTML (static files arrive precompressed from WhiteNoise, above). BREACH needs
    # a secret repeated in a compressed body: Django masks the CSRF token afresh in every response.
    "django.middleware.gzip.GZipMiddleware",
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

TEMPLATE_OPTIONS: dict[str, list[str]] = {
    "context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ],
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": TEMPLATE_OPTIONS,
    },
]


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic (`make run` runs it) writes every file under a content-hashed name with a
    # gzipped copy beside it; pages link the hashed names, which WhiteNoise serves precompressed
    # and cacheable for a year (immutable), so a repeat visit fetches no static file at all.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# WhiteNoise also serves straight from static/ (unhashed names, short cache), for DJANGO_DEBUG=1.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

# --- Dashboard (gRPC client) -----------------------------------------------------------------
IMAGESERVICE_BACKEND_ADDRESS = os.environ.get("IMAGESERVICE_BACKEND_ADDRESS", "127.0.0.1:50051")
IMAGESERVICE_BACKEND_TLS_CA = os.environ.get("IMAGESERVICE_BACKEND_TLS_CA", "")
IMAGESERVICE_BACKEND_TIMEOUT = float(os.environ.get("IMAGESERVICE_BACKEND_TIMEOUT", "5"))
IMAGESERVICE_DEFAULT_FOLDER = os.environ.get("IMAGESERVICE_DEFAULT_FOLDER", "demo-folder")

# --- Dashboard (web) -------------------------------------------------------------------------
# Login everywhere (views opt out with @login_not_required), a request id per web request that
# the gRPC client forwards, backend errors rendered as pages, and a CSP with no inline code.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
MIDDLEWARE.insert(0, "dashboard.middleware.RequestIdMiddleware")
MIDDLEWARE += [
    "dashboard.middleware.LoginRequiredMiddleware",
    "dashboard.middleware.NoStoreMiddleware",
    "dashboard.middleware.BackendErrorMiddleware",
]
TEMPLATE_OPTIONS["context_processors"].append("dashboard.context_processors.dashboard")

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
# Deep paging's Previous links (dashboard.PageLink) are kept this long after they were recorded; a
# recording purges the older ones, at most once per interval in each process.
DASHBOARD_PAGE_LINK_MAX_AGE_SECONDS = int(os.environ.get("DASHBOARD_PAGE_LINK_MAX_AGE_SECONDS", "86400"))
DASHBOARD_PAGE_LINK_PURGE_SECONDS = int(os.environ.get("DASHBOARD_PAGE_LINK_PURGE_SECONDS", "300"))

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

# --- Observability ---------------------------------------------------------------------------
# Prometheus metrics at /metrics: off by default; when on, only loopback clients and callers with
# `Authorization: Bearer <DASHBOARD_METRICS_TOKEN>` may read them (behind a reverse proxy on the
# same host every client looks like loopback: set a token and block /metrics at the proxy).
DASHBOARD_METRICS_ENABLED = env_bool("DASHBOARD_METRICS_ENABLED", False)
DASHBOARD_METRICS_TOKEN = os.environ.get("DASHBOARD_METRICS_TOKEN", "")
MIDDLEWARE.insert(
    MIDDLEWARE.index("dashboard.middleware.RequestIdMiddleware") + 1, "dashboard.middleware.TraceMiddleware"
)
MIDDLEWARE.insert(0, "dashboard.metrics.RequestMetricsMiddleware")
