"""Template filters for sizes, durations, times, statuses, redacted addresses; copy buttons."""

from __future__ import annotations

import datetime as dt
import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from dashboard import times
from dashboard.units import human_bytes

register = template.Library()
_URI_QUERY = re.compile(r"(?i)\b((?:https?|s3|gs)://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")


@register.filter
def bytes_human(value) -> str:
    try:
        return human_bytes(int(value))
    except (TypeError, ValueError):
        return ""


@register.filter
def bytes_exact(value) -> str:
    try:
        return f"{int(value):,} bytes"
    except (TypeError, ValueError):
        return ""


@register.filter
def duration(value: dt.timedelta | None) -> str:
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if value.total_seconds() < 0.1:
        return "< 0.1 s"
    if seconds < 60:
        return f"{value.total_seconds():.1f} s" if seconds < 10 else f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def ago(value: dt.datetime | None):
    """ "3 min ago", with the exact time and zone on hover."""
    return mark_safe(times.time_html(value))  # noqa: S308 (time_html escapes its text)


@register.filter
def exact_time(value: dt.datetime | None):
    """The exact time and zone, with "3 min ago" on hover."""
    return mark_safe(times.time_html(value, exact=True))  # noqa: S308 (time_html escapes its text)


@register.simple_tag
def copy_button(value: str, what: str = "ID"):
    """A button that copies `value` (dashboard.js reveals it: without a script it could do nothing)."""
    return format_html(
        '<button type="button" class="copy" data-copy="{}" aria-label="Copy {} {}" hidden>Copy</button>',
        value,
        what,
        value,
    )


@register.filter
def elapsed(operation) -> str:
    return duration(operation.elapsed())


@register.filter
def tray_summary(operations) -> str:
    """The tray's one line when collapsed: "2 running", or what the finished ones came to."""
    counts: dict[str, int] = {}
    for operation in operations:
        counts[operation.state] = counts.get(operation.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in counts.items()) or "none"


@register.filter
def status_class(status: str) -> str:
    return {
        "READY": "ok",
        "CREATING": "busy",
        "DELETING": "busy",
        "ERROR": "bad",
        "running": "busy",
        "done": "ok",
        "failed": "bad",
        "cancelled": "muted",
    }.get(status, "muted")


@register.filter
def redact(text: str) -> str:
    """Drops query strings and fragments from addresses: signed URLs carry secrets there."""
    return _URI_QUERY.sub(r"\1?…", str(text or ""))


@register.simple_tag
def rule_attrs(key: str):
    """HTML validation attributes from the shared rules table, e.g. {% rule_attrs "label_key" %}."""
    from django.utils.html import format_html_join

    from dashboard.forms import rule_attrs as attrs_of

    return format_html_join(" ", '{}="{}"', attrs_of(key).items())


@register.simple_tag
def rule_help(key: str) -> str:
    from images.rules import RULES

    return RULES[key].help
