"""Disks and snapshots of a folder (read only), each with "Create image from this"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard import folders
from dashboard.backend import BackendError, InvalidArgument
from dashboard.filters import quote
from dashboard.pager import clean_token, paginate
from dashboard.presenters import timestamp
from dashboard.units import human_bytes
from dashboard.views.common import backend_for, render_view

PAGE_SIZE = 50
# The Create page's picker: the newest few of one kind whose name holds the typed text.
PICKER_SIZE = 20
PICKER_KINDS = {"disk_id": "disks", "snapshot_id": "snapshots", "image_id": "READY images"}
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


def search_sources(backend, folder_id: str, kind: str, text: str) -> list[SourceRow]:
    """The newest disks, snapshots or READY images of the folder whose name contains `text` (all of
    them for no text), in one List call: the API searches, so the picker finds any of them."""
    text = text.strip().lower().replace("*", "")
    conditions = [f"name:{quote(text)}"] if text else []
    newest = {"page_size": PICKER_SIZE, "order_by": "createdAt desc"}
    if kind == "disk_id":
        return [
            disk_row(d)
            for d in backend.list_disks(folder_id, filter=" AND ".join(conditions), **newest).disks
        ]
    if kind == "snapshot_id":
        response = backend.list_snapshots(folder_id, filter=" AND ".join(conditions), **newest)
        return [snapshot_row(s) for s in response.snapshots]
    conditions.append('status = "READY"')
    return [
        image_row(i) for i in backend.list_images(folder_id, filter=" AND ".join(conditions), **newest).images
    ]


@require_GET
def source_picker(request, folder_id: str):
    """The Create page's picker options for what is typed in the source field (an HTMX fragment,
    fetched on focus and typing; the page itself makes no picker call)."""
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")
    kind = request.GET.get("source_kind", "")
    text = request.GET.get("source_id", "")[:100]
    rows, problem = [], ""
    if kind in PICKER_KINDS:
        try:
            rows = search_sources(backend_for(request), folder_id, kind, text)
        except BackendError as error:
            problem = error.message  # typing an id still works
    context = {
        "rows": rows,
        "kind": kind,
        "what": PICKER_KINDS.get(kind, ""),
        "text": text,
        "problem": problem,
    }
    return TemplateResponse(request, "partials/source_picker.html", context)


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
