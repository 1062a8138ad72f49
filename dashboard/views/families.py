"""Families for operators: each family's latest READY image, and one family's versions as a timeline."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard import folders
from dashboard.backend import Backend, InvalidArgument, MarkedImages, Unimplemented
from dashboard.diffs import diff
from dashboard.filters import quote
from dashboard.pager import clean_token, paginate
from dashboard.presenters import ImageView, timestamp
from dashboard.rows import family_rows
from dashboard.views.common import backend_for, render_view
from dashboard.watch import Watch
from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.rules import check_family

FAMILIES_PAGE_SIZE = 100
VERSIONS_PAGE_SIZE = 20
# Without the extension, families come from scanning List; beyond this many images, say it is partial.
FALLBACK_SCAN_PAGES = 10
FALLBACK_PAGE_SIZE = 1000


def _pager(request, base: str, scope: str, token: str, next_token: str) -> dict:
    def link(page: str, after: str | None) -> str:
        pairs = [
            *([("page", page)] if page else []),
            *([("after", after)] if page and after is not None else []),
        ]
        return base + ("?" + urlencode(pairs) if pairs else "")

    came_from = clean_token(request.GET.get("after"))
    return {
        "pager": paginate(scope=scope, token=token, came_from=came_from, next_token=next_token, link=link)
    }


def _scan_families(backend, folder_id: str) -> tuple[list[dict], bool]:
    """The fallback for servers without ListFamilies: group a bounded scan of List by family."""
    families: dict[str, dict] = {}
    token, partial = "", False
    for _ in range(FALLBACK_SCAN_PAGES):
        response = backend.list_images(folder_id, page_size=FALLBACK_PAGE_SIZE, page_token=token)
        for proto in response.images:
            if not proto.family:
                continue
            entry = families.setdefault(
                proto.family, {"name": proto.family, "count": 0, "latest": None, "last": None}
            )
            image = ImageView.from_proto(proto)
            entry["count"] += 1
            if entry["last"] is None or (image.created_at, image.id) > (
                entry["last"].created_at,
                entry["last"].id,
            ):
                entry["last"] = image
            newest = entry["latest"]
            if image.status == "READY" and (
                newest is None or (image.created_at, image.id) > (newest.created_at, newest.id)
            ):
                entry["latest"] = image
        token = response.next_page_token
        if not token:
            break
    else:
        partial = True
    rows = [
        {
            "name": e["name"],
            "count": e["count"],
            "latest": e["latest"],
            "last_change_at": e["last"].created_at,
        }
        for e in sorted(families.values(), key=lambda e: e["name"])
    ]
    return rows, partial


@require_GET
def family_list(request, folder_id: str):
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")
    folders.use(request, folder_id)
    backend = backend_for(request)
    base = reverse("family-list", args=[folder_id])
    token = clean_token(request.GET.get("page")) or ""
    try:
        response = backend.list_families(folder_id, page_size=FAMILIES_PAGE_SIZE, page_token=token)
    except Unimplemented:
        rows, partial = _scan_families(backend, folder_id)
        context = {
            "families": rows,
            "partial": partial,
            "fallback": True,
            **_pager(request, base, "families", "", ""),
        }
    else:
        rows = [
            {
                "name": family.name,
                "count": family.image_count,
                "latest": ImageView.from_proto(family.latest_image)
                if family.HasField("latest_image")
                else None,
                "last_change_at": timestamp(family.last_change_at),
            }
            for family in response.families
        ]
        context = {"families": rows, "partial": False, "fallback": False}
        context.update(_pager(request, base, "families", token, response.next_page_token))
    context["rows"] = family_rows(context["families"], folder_id)
    return render_view(request, "families/list.html", context, fragment="families")


@require_GET
def family_detail(request, folder_id: str, family: str):
    if not folders.is_valid(folder_id) or check_family(family, required=True):
        raise Http404("No such family.")
    folders.use(request, folder_id)
    backend = backend_for(request)
    base = reverse("family-detail", args=[folder_id, family])
    token = clean_token(request.GET.get("page")) or ""

    def versions_page(page_token: str) -> MarkedImages:
        return backend.list_images_with_latest(
            folder_id,
            page_size=VERSIONS_PAGE_SIZE,
            page_token=page_token,
            filter=f"family = {quote(family)}",
            order_by="createdAt desc",
        )

    try:
        response = versions_page(token)
    except InvalidArgument:
        # An expired or foreign page token: start again from the newest version.
        token = ""
        response = versions_page(token)
    latest = _latest_of_family(backend, folder_id, family, response, first_page=not token)
    versions = [ImageView.from_proto(image) for image in response.images]
    timeline = []
    for index, image in enumerate(versions):
        older = versions[index + 1] if index + 1 < len(versions) else None
        timeline.append(
            {
                "image": image,
                "is_latest": latest is not None and image.id == latest.id,
                "changes": diff(older.comparable(), image.comparable()) if older else None,
                "first": older is None and not response.next_page_token,
            }
        )
    context = {
        "family": family,
        "timeline": timeline,
        "latest": ImageView.from_proto(latest) if latest else None,
        "watch": Watch.of(folder_id, versions),
        **_pager(request, base, "versions", token, response.next_page_token),
    }
    return render_view(request, "families/detail.html", context, fragment="timeline")


def _latest_of_family(
    backend: Backend, folder_id: str, family: str, page: MarkedImages, *, first_page: bool
) -> image_pb2.Image | None:
    """The family's latest image: the page's marked one when the page holds it, none when the page
    is the whole family and none of it is marked, else asked for (GetLatestByFamily), so a page
    holding its family's latest, as the newest versions usually do, costs one call."""
    if page.latest_ids:
        return next(image for image in page.images if image.id in page.latest_ids)
    if page.latest_ids is not None and first_page and not page.next_page_token:
        return None
    return backend.latest_by_family(folder_id, family)
