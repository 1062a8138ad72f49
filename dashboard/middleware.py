"""A request id per web request (forwarded to the backend), and backend errors rendered as pages."""

from __future__ import annotations

import logging
import re
import uuid

from django.template.response import TemplateResponse
from django_htmx.http import push_url, reswap, retarget

from dashboard.backend import BackendError, Unauthenticated

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Takes a well-formed X-Request-ID from the client or makes one; answers with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def error_response(request, error: BackendError, *, status: int | None = None) -> TemplateResponse:
    """The error page for a failed backend call; an HTMX request gets the message in the alerts area."""
    status = status or error.http_status
    message = error.message
    if isinstance(error, Unauthenticated):
        message = (
            "The image service did not accept your account's API token. Ask an administrator to renew it."
        )
    context = {"error": error, "title": error.title, "message": message, "status": status}
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
