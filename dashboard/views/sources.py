"""Disks and snapshots of a folder (read only), each with "Create image from this"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard import folders
from dashboard.backend import InvalidArgument
from dashboard.pager import clean_token, paginate
from dashboard.presenters import timestamp
from dashboard.units import human_bytes
from dashboard.views.common import backend_for, render_view

PAGE_SIZE = 50
# For the Create page's pickers: the newest of each kind, one call each.
PICKER_SIZE = 100
OS_NAMES = {1: "Linux", 2: "Windows"}


@dataclass(frozen=True)
class SourceRow:
    """A disk, snapshot or image as a picker or list row shows it."""

    kind: str  # the Create form's source kind: disk_id, snapshot_id or image_id
    id: str
    name: str
    size: int
    created_at: dt.datetime | None
    os: str = ""
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def size_text(self) -> str:
        return human_bytes(self.size) if self.size else ""

    @property
    def option_label(self) -> str:
        created = self.created_at.strftime("%Y-%m-%d") if self.created_at else ""
        parts = [self.name or "(no name)", self.size_text, self.os, created]
        return " · ".join(part for part in parts if part)

    @property
    def create_url(self) -> str:
        return f"?{urlencode({'source_kind': self.kind, 'source_id': self.id})}"


def disk_row(disk) -> SourceRow:
    return SourceRow("disk_id", disk.id, disk.name, disk.size, timestamp(disk.created_at),
                     labels=tuple(sorted(disk.labels.items())))  # fmt: skip


def snapshot_row(snapshot) -> SourceRow:
    return SourceRow("snapshot_id", snapshot.id, snapshot.name, snapshot.disk_size, timestamp(snapshot.created_at),
                     labels=tuple(sorted(snapshot.labels.items())))  # fmt: skip


def image_row(image) -> SourceRow:
    return SourceRow("image_id", image.id, image.name, image.min_disk_size, timestamp(image.created_at),
                     os=OS_NAMES.get(image.os.type, ""))  # fmt: skip


def picker_rows(backend, folder_id: str) -> dict[str, list[SourceRow]]:
    """The newest disks, snapshots and READY images of the folder, for the Create page's pickers."""
    newest = {"page_size": PICKER_SIZE, "order_by": "createdAt desc"}
    return {
        "disk_id": [disk_row(d) for d in backend.list_disks(folder_id, **newest).disks],
        "snapshot_id": [snapshot_row(s) for s in backend.list_snapshots(folder_id, **newest).snapshots],
        "image_id": [
            image_row(i) for i in backend.list_images(folder_id, filter='status = "READY"', **newest).images
        ],
    }


KINDS = {
    "disk-list": ("Disks", "disks", "list_disks", disk_row),
    "snapshot-list": ("Snapshots", "snapshots", "list_snapshots", snapshot_row),
}


def _source_list(request, folder_id: str, url_name: str):
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")
    folders.use(request, folder_id)
    title, field, method, to_row = KINDS[url_name]
    backend = backend_for(request)
    token = clean_token(request.GET.get("page")) or ""
    try:
        response = getattr(backend, method)(folder_id, page_size=PAGE_SIZE, page_token=token, order_by="name")
    except InvalidArgument:  # an expired or foreign page token: start again
        token = ""
        response = getattr(backend, method)(folder_id, page_size=PAGE_SIZE, order_by="name")
    base = reverse(url_name, args=[folder_id])
    came_from = clean_token(request.GET.get("after"))

    def link(page: str, after: str | None) -> str:
        pairs = [
            *([("page", page)] if page else []),
            *([("after", after)] if page and after is not None else []),
        ]
        return base + ("?" + urlencode(pairs) if pairs else "")

    context = {
        "title": title,
        "rows": [to_row(item) for item in getattr(response, field)],
        "pager": paginate(
            scope=field, token=token, came_from=came_from, next_token=response.next_page_token, link=link
        ),
        "create_base": reverse("image-create", args=[folder_id]),
    }
    return render_view(request, "sources/list.html", context, fragment="sources")


@require_GET
def disk_list(request, folder_id: str):
    return _source_list(request, folder_id, "disk-list")


@require_GET
def snapshot_list(request, folder_id: str):
    return _source_list(request, folder_id, "snapshot-list")
