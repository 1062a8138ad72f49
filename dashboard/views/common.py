"""Helpers every view uses: fragment-or-page rendering and the person's backend client."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers

from dashboard.backend import Backend
from dashboard.models import BackendAccount


def wants_fragment(request) -> bool:
    """An HTMX request for part of a page: not a boosted navigation, not a history restore."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_view(request, template: str, context: dict, *, fragment: str | None = None, status: int = 200):
    """The full page, or only its partial `fragment` when HTMX asks for it (same URL, same template)."""
    name = f"{template}#{fragment}" if fragment and wants_fragment(request) else template
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def backend_for(request) -> Backend:
    """The API client acting as the signed-in person (their own token, this request's id)."""
    try:
        token = request.user.backend_account.token
    except BackendAccount.DoesNotExist:
        raise PermissionDenied(
            "Your account has no API token for the image service. Ask an administrator to add one."
        ) from None
    return Backend(token, getattr(request, "request_id", None))
