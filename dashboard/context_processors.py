"""What every dashboard page shows around its content: the folder, its picker, roles, the operations tray.

It only reads: no backend call and no session write per page. The tray is brought up to date by its
own view (polled by HTMX, or through its Refresh link without JavaScript).
"""

from __future__ import annotations

from django.conf import settings

from dashboard import folders, preferences, tray
from dashboard.access import is_editor
from dashboard.models import THEMES


def dashboard(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    operations = tray.entries(request)
    match = getattr(request, "resolver_match", None)
    url_name = (match.url_name or "") if match else ""
    section = {
        "family": "families",
        "disk": "disks",
        "snapshot": "snapshots",
        "preferences": "preferences",
        "view": "preferences",
        "folder": "operations",
    }.get(url_name.partition("-")[0], "images")
    return {
        "folder_id": folders.current(request),
        "recent_folders": folders.recent(request),
        "default_folder": settings.IMAGESERVICE_DEFAULT_FOLDER,
        "can_edit": is_editor(request.user),
        "section": section,
        "tray_operations": operations,
        "tray_running": any(op.running for op in operations),
        "page_path": _page_path(request),
        "theme": preferences.theme(request.user),
        "themes": THEMES,
    }


def _page_path(request) -> str:
    """Where "back to this page" leads: for an HTMX request, the page that made it."""
    htmx = getattr(request, "htmx", None)
    return (htmx and htmx.current_url_abs_path) or request.get_full_path()
