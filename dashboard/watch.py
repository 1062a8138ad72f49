"""Live status for every viewer: one poll per page for the images it shows in CREATING or DELETING.

The page renders a watcher naming those images and the status it showed; the watch view asks the
backend about all of them in one List call (`id IN (...)`). When any has moved on (or is gone) it
tells the page's sections to refresh (`images-changed`) and stops; otherwise it waits twice as long
before asking again (1 s, 2 s, 4 s ... 30 s), so a long import costs a few requests a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from dashboard.filters import quote

FIRST_WAIT = 1
MAX_WAIT = 30
TRANSITIONAL = ("CREATING", "DELETING")


def clean_wait(value: str | None) -> int:
    """The poll's current wait from its URL, within FIRST_WAIT..MAX_WAIT (FIRST_WAIT when absent)."""
    try:
        return min(max(int(value or FIRST_WAIT), FIRST_WAIT), MAX_WAIT)
    except ValueError:
        return FIRST_WAIT


def longer(wait: int) -> int:
    """The wait before the next poll: twice this one, at most MAX_WAIT."""
    return min(wait * 2, MAX_WAIT)


@dataclass(frozen=True)
class Watch:
    folder_id: str
    shown: tuple[tuple[str, str], ...]  # (image id, status the page shows)
    wait: int = FIRST_WAIT

    @classmethod
    def of(cls, folder_id: str, images) -> Watch | None:
        """The watcher for a page showing `images` (ImageViews), or None when none is in transition."""
        shown = tuple((image.id, image.status) for image in images if image.status in TRANSITIONAL)
        return cls(folder_id, shown) if shown else None

    @classmethod
    def from_query(cls, query) -> Watch:
        shown = []
        for value in query.getlist("image")[:1000]:
            image_id, _, status = value.partition(":")
            if image_id and status in TRANSITIONAL:
                shown.append((image_id, status))
        return cls(query.get("folder", ""), tuple(shown), clean_wait(query.get("wait")))

    @property
    def url(self) -> str:
        pairs = [("folder", self.folder_id), *(("image", f"{i}:{s}") for i, s in self.shown)]
        return f"{reverse('image-watch')}?{urlencode([*pairs, ('wait', str(self.wait))])}"

    def api_filter(self) -> str:
        return f"id IN ({', '.join(quote(image_id) for image_id, _ in self.shown)})"

    def changed(self, statuses: dict[str, str]) -> bool:
        """True when any watched image shows another status now, or no longer exists."""
        return any(statuses.get(image_id) != status for image_id, status in self.shown)

    def later(self) -> Watch:
        return Watch(self.folder_id, self.shown, longer(self.wait))
