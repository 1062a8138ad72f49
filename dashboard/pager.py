"""The one pager of every token-paged section: Next, Previous (back to the real first page), numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dashboard.models import PageLink
from images.rules import check_page_token


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
        PageLink.objects.update_or_create(key=keys[0], defaults={"previous": came_from, "number": number})
    return came_from, number


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
