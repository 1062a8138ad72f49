"""Roles: group viewer reads, group editor also changes; checked in views, whatever the request looks like."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

ROLES = ("viewer", "editor")


def is_editor(user) -> bool:
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_dashboard_is_editor", None)
    if cached is None:
        cached = user.groups.filter(name="editor").exists()
        user._dashboard_is_editor = cached
    return cached


def editor_required(view):
    """403 for anyone but an editor: on every method, so a hand-crafted POST gets no further."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_editor(request.user):
            raise PermissionDenied("Only editors can change images.")
        return view(request, *args, **kwargs)

    return wrapper
