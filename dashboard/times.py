"""Times as people read them: "3 min ago" in the page, the exact time and its zone on hover."""

from __future__ import annotations

import datetime as dt
from html import escape

from django.utils import timezone


def relative(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "just now", "3 min ago", "5 h ago", "2 days ago"; past a month, the date itself."""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    if seconds < 0:
        return "in the future" if seconds < -60 else "just now"
    if seconds < 45:
        return "just now"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = round(seconds / 3600)
    if hours < 24:
        return f"{hours} h ago"
    days = round(seconds / 86400)
    if days < 31:
        return f"{days} day{'' if days == 1 else 's'} ago"
    return f"{timezone.localtime(value):%Y-%m-%d}"


def absolute(value: dt.datetime) -> str:
    """The exact time in the dashboard's zone, with the zone named: "2026-01-02 10:11:12 UTC"."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S %Z}"


def time_html(value: dt.datetime | None, now: dt.datetime | None = None, *, exact: bool = False) -> str:
    """A <time> element: relative text with the exact time on hover, or (`exact`) the exact time
    with the relative one on hover, as the detail page shows it."""
    if value is None:
        return ""
    when, ago = absolute(value), relative(value, now)
    text, title = (when, ago) if exact else (ago, when)
    return f'<time datetime="{value.isoformat()}" title="{escape(title)}">{escape(text)}</time>'
