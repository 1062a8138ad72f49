"""What every dashboard page shows around its content: the folder, its picker, roles, the operations tray."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dashboard import folders, tray
from dashboard.access import is_editor
from dashboard.backend import BackendError

JUST_STARTED = dt.timedelta(seconds=3)


def dashboard(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    operations = tray.entries(request)
    if not getattr(request, "htmx", False) and any(op.running and not _just_started(op) for op in operations):
        operations = _refreshed(request, operations)
    match = getattr(request, "resolver_match", None)
    section = "families" if match and (match.url_name or "").startswith("family") else "images"
    return {
        "folder_id": folders.current(request),
        "recent_folders": folders.recent(request),
        "default_folder": settings.IMAGESERVICE_DEFAULT_FOLDER,
        "can_edit": is_editor(request.user),
        "section": section,
        "tray_operations": operations,
        "tray_running": any(op.running for op in operations),
    }


def _just_started(operation) -> bool:
    """Started in the last few seconds: the page after a Create shows it running, and HTMX's poll
    (or the person's next reload) shows how it ended."""
    return operation.created_at is not None and timezone.now() - operation.created_at < JUST_STARTED


def _refreshed(request, operations):
    """A full page shows the tray as it is now (one batch call, only while something runs), so the
    panel is current without JavaScript too; HTMX pages poll instead."""
    from dashboard.views.common import backend_for

    try:
        tray.refresh(request, backend_for(request))
    except (BackendError, PermissionDenied):
        return operations  # the page itself reports what is wrong; the tray keeps what it knew
    return tray.entries(request)
