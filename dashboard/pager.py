"""The one pager of every token-paged section: Next, Previous (back to the real first page), numbers."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from dashboard.models import PageLink
from images.rules import check_page_token

# Rows deleted by one purge at most, so that a purge is one short statement even over a backlog;
# a full batch leaves the next purge due at once, and the recordings that follow drain the rest.
PURGE_BATCH = 1000


@dataclass(frozen=True)
class Pager:
    """What partials/pager.html shows. `number` is None when nobody recorded how this page was reached
    (a link made elsewhere): then the pager offers the first page instead of a guessed Previous."""

    number: int | None
    prev_url: str
    next_url: str
    first_url: str

    @property
    def shown(self) -> bool:
        return bool(self.prev_url or self.next_url or self.first_url)


def clean_token(value: str | None) -> str | None:
    """A page token from a URL, or None when absent or not one the API could have issued."""
    if value is None or check_page_token(value):
        return None
    return value


def _key(scope: str, token: str) -> str:
    return f"{scope}:{token}"


def _locate(scope: str, token: str, came_from: str | None) -> tuple[str | None, int | None]:
    """(token of the page before, this page's number); the first page has no page before."""
    if not token:
        return None, 1
    keys = [_key(scope, token)] + ([_key(scope, came_from)] if came_from else [])
    known = {link.key: link for link in PageLink.objects.filter(key__in=keys)}
    here = known.get(keys[0])
    if came_from is None:
        return (here.previous, here.number) if here else (None, None)
    before = known.get(_key(scope, came_from)) if came_from else None
    before_number = 1 if not came_from else (before.number if before else None)
    number = before_number + 1 if before_number else None
    if here is None or (here.previous, here.number) != (came_from, number):
        PageLink.objects.update_or_create(
            key=keys[0], defaults={"previous": came_from, "number": number, "recorded_at": timezone.now()}
        )
        _purge_when_due()
    return came_from, number


class _PurgeClock:
    """When this process last purged page links; a lock, so that one request purges at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = -float("inf")


_clock = _PurgeClock()


def _purge_when_due() -> None:
    """Deletes page links recorded longer ago than DASHBOARD_PAGE_LINK_MAX_AGE_SECONDS, the oldest
    first, at most PURGE_BATCH: a range of the recorded_at index, run at most once per
    DASHBOARD_PAGE_LINK_PURGE_SECONDS in each process."""
    now = time.monotonic()
    if now - _clock.last < settings.DASHBOARD_PAGE_LINK_PURGE_SECONDS or not _clock.lock.acquire(False):
        return
    try:
        cutoff = timezone.now() - dt.timedelta(seconds=settings.DASHBOARD_PAGE_LINK_MAX_AGE_SECONDS)
        oldest = PageLink.objects.filter(recorded_at__lt=cutoff).order_by("recorded_at")
        deleted, _ = PageLink.objects.filter(key__in=oldest.values("key")[:PURGE_BATCH]).delete()
        _clock.last = -float("inf") if deleted >= PURGE_BATCH else now
    finally:
        _clock.lock.release()


def forget_purge_time() -> None:
    """Purge on the next recording (tests)."""
    _clock.last = -float("inf")


def paginate(
    *,
    scope: str,
    token: str,
    came_from: str | None,
    next_token: str,
    link: Callable[[str, str | None], str],
) -> Pager:
    """`token` opened this page, `came_from` is the page a Next link came from (None when the URL does
    not say), `next_token` is the API's next_page_token; `link(token, came_from)` builds a URL.
    `scope` tells lists apart whose tokens could coincide (e.g. the same list at another page size)."""
    previous, number = _locate(scope, token, came_from)
    return Pager(
        number=number,
        prev_url=link(previous, None) if previous is not None else "",
        next_url=link(next_token, token) if next_token else "",
        first_url=link("", None) if token and previous is None else "",
    )
