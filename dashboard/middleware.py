"""Per-request plumbing: a request id, no caching of signed-in pages, HTMX-aware login redirects,
and backend errors rendered as pages."""

from __future__ import annotations

import logging
import re
import uuid

from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, push_url, reswap, retarget
from opentelemetry import trace

from dashboard.backend import BackendError, Unauthenticated, Unavailable
from dashboard.views.status import FIRST_PROBE_SECONDS
from images import telemetry

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Takes a well-formed X-Request-ID from the client or makes one; answers with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        with telemetry.log_context(request_id=request.request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class TraceMiddleware:
    """A server span per web request when tracing is on; the gRPC client continues it in the backend."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tracer = telemetry.tracer(__name__)
        if tracer is None:
            return self.get_response(request)
        with tracer.start_as_current_span(
            request.method, kind=trace.SpanKind.SERVER, attributes={"request.id": request.request_id}
        ) as span:
            response = self.get_response(request)
            match = request.resolver_match
            if match is not None:
                span.update_name(f"{request.method} {match.route}")
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(trace.StatusCode.ERROR)
            return response


class NoStoreMiddleware:
    """Pages and fragments of a signed-in person never go to a shared or back-button cache: they
    show one person's images and operations, and must not outlive a logout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's redirect to the login page; for an HTMX request, a whole-page redirect instead, and
    back to the page the person was on (HX-Current-URL), not to the fragment that asked."""

    def handle_no_permission(self, request, view_func):
        response = super().handle_no_permission(request, view_func)
        if not getattr(request, "htmx", False):
            return response
        current = request.htmx.current_url_abs_path
        if not current or not url_has_allowed_host_and_scheme(current, allowed_hosts=None):
            current = "/"
        login_url = resolve_url(self.get_login_url(view_func))
        to_login = redirect_to_login(current, login_url, self.get_redirect_field_name(view_func))
        return HttpResponseClientRedirect(to_login["Location"])


def error_response(request, error: BackendError, *, status: int | None = None) -> TemplateResponse:
    """The error page for a failed backend call; an HTMX request gets the message in the alerts area."""
    status = status or error.http_status
    message = error.message
    if isinstance(error, Unauthenticated):
        message = (
            "The image service did not accept your account's API token. Ask an administrator to renew it."
        )
    context = {"error": error, "title": error.title, "message": message, "status": status}
    if isinstance(error, Unavailable):  # the banner watches for the backend's return
        context["probe_after"] = FIRST_PROBE_SECONDS
    if getattr(request, "htmx", False) and not request.htmx.history_restore_request:
        response = TemplateResponse(request, "error.html#alert", context, status=status)
        # The page did not change, so neither may the address bar (a sort link pushes by default).
        return push_url(reswap(retarget(response, "#alerts"), "innerHTML"), False)
    return TemplateResponse(request, "error.html", context, status=status)


class BackendErrorMiddleware:
    """Whatever a view does not handle itself becomes the contract's HTTP status and a clear message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BackendError):
            log.warning(
                "backend error request_id=%s code=%s",
                getattr(request, "request_id", "-"),
                exception.code.name,
            )
            return error_response(request, exception).render()
        return None
