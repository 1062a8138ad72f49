"""The dashboard's Prometheus metrics: requests per view, backend calls per RPC, sign-in failures,
and the /metrics view (off unless DASHBOARD_METRICS_ENABLED; a bearer token or loopback only)."""

from __future__ import annotations

import hmac
import ipaddress
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import MiddlewareNotUsed
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from images.telemetry import LATENCY_BUCKETS

REQUESTS = Counter(
    "dashboard_http_requests", "Web requests answered, by view (URL name), method and status.",
    ["view", "method", "status"],
)  # fmt: skip
REQUEST_SECONDS = Histogram(
    "dashboard_http_request_duration_seconds",
    "Time to answer a web request, by view (URL name) and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
BACKEND_CALL_SECONDS = Histogram(
    "dashboard_backend_call_duration_seconds",
    "gRPC calls to the backend as the dashboard sees them, by RPC and status code.",
    ["rpc", "code"],
    buckets=LATENCY_BUCKETS,
)
LOGIN_FAILURES = Counter("dashboard_login_failures", "Sign-ins refused for a wrong username or password.")
LOGIN_THROTTLED = Counter("dashboard_login_throttled", "Sign-ins refused unchecked during a cool-off.")


class RequestMetricsMiddleware:
    """Counts and times every request by view; not installed at all unless metrics are on."""

    def __init__(self, get_response):
        if not settings.DASHBOARD_METRICS_ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = (match.url_name or match.view_name) if match else "unresolved"
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view, request.method).observe(time.perf_counter() - started)
        return response


def _allowed(request) -> bool:
    token = settings.DASHBOARD_METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@login_not_required
@never_cache
def metrics_view(request):
    if not settings.DASHBOARD_METRICS_ENABLED:
        raise Http404
    if not _allowed(request):
        response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
