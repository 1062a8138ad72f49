"""The operations tray: one poll for all running operations (286 when none runs), Cancel, Clear."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING, trigger_client_event

from dashboard import tray
from dashboard.access import editor_required
from dashboard.backend import BackendError, Unavailable
from dashboard.views.common import backend_for, wants_fragment


def _tray_response(request, *, finished=(), problem: str = "") -> TemplateResponse:
    operations = tray.entries(request)
    running = any(op.running for op in operations)
    context = {"tray_operations": operations, "tray_running": running, "tray_problem": problem}
    response = TemplateResponse(
        request, "partials/tray.html", context, status=200 if running else HTMX_STOP_POLLING
    )
    if finished:
        # Pages showing these images listen for this event and refresh their own fragment.
        trigger_client_event(response, "images-changed")
    return response


def _back(request):
    target = request.POST.get("next", "") or request.GET.get("next", "") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@require_GET
def operations_tray(request):
    """The only place the tray asks the backend: HTMX polls it, and without JavaScript the tray's
    Refresh link comes here and goes back to the page (pages themselves never refresh it)."""
    if not wants_fragment(request):
        if any(op.running for op in tray.entries(request)):
            try:
                tray.refresh(request, backend_for(request))
            except BackendError as error:
                messages.warning(request, f"Operations could not be refreshed: {error.message}")
        return _back(request)
    if not any(op.running for op in tray.entries(request)):
        return _tray_response(request)
    try:
        finished = tray.refresh(request, backend_for(request))
    except Unavailable as error:
        # Keep polling through a backend restart, and say so in the tray, not in an alert a second.
        return _tray_response(request, problem=error.message)
    except BackendError as error:
        response = _tray_response(request, problem=error.message)
        response.status_code = HTMX_STOP_POLLING
        return response
    return _tray_response(request, finished=finished)


@editor_required
@require_POST
def operation_cancel(request, operation_id: str):
    try:
        operation = backend_for(request).cancel_operation(operation_id)
    except BackendError as error:
        if not wants_fragment(request):
            messages.error(request, f"Could not cancel: {error.message}")
            return _back(request)
        raise
    tray.replace(request, operation)
    if wants_fragment(request):
        # The folder's operations page (if that is where the person is) refreshes itself on this.
        return trigger_client_event(_tray_response(request), "operations-changed")
    messages.info(request, "Cancel requested.")
    return _back(request)


@require_POST
def operations_clear(request):
    tray.clear_finished(request)
    if wants_fragment(request):
        return _tray_response(request)
    return _back(request)
