"""The folder a page works in: from the URL, remembered per session, with the settings' default."""

from __future__ import annotations

from django.conf import settings

from images.rules import check_id

SESSION_KEY = "dashboard_recent_folders"
MAX_RECENT = 8


def is_valid(folder_id: str) -> bool:
    return not check_id(folder_id, "folder_id")


def use(request, folder_id: str) -> None:
    """Makes `folder_id` the current folder and the first of the recent ones."""
    request.dashboard_folder = folder_id
    recent = [f for f in request.session.get(SESSION_KEY, []) if f != folder_id]
    recent = [folder_id, *recent][:MAX_RECENT]
    if request.session.get(SESSION_KEY) != recent:
        request.session[SESSION_KEY] = recent


def current(request) -> str:
    return getattr(request, "dashboard_folder", None) or last_used(request)


def last_used(request) -> str:
    recent = request.session.get(SESSION_KEY) or []
    return recent[0] if recent else settings.IMAGESERVICE_DEFAULT_FOLDER


def recent(request) -> list[str]:
    return list(request.session.get(SESSION_KEY) or [])
