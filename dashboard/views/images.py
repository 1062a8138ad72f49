"""Browsing: the folder's image list (filters, sort, pages in the URL) and one image's page."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling, push_url, trigger_client_event

from dashboard import folders, preferences, tray
from dashboard.access import is_editor
from dashboard.backend import BackendError, InvalidArgument, NotFound, Unimplemented
from dashboard.filters import (
    DEFAULT_NAME_OP,
    NAME_OPS,
    PAGE_SIZES,
    STATUSES,
    parse_state,
    quote,
    violations_to_errors,
)
from dashboard.pager import clean_token, paginate
from dashboard.presenters import STATUS_NAMES, ImageView, OperationView
from dashboard.rows import image_rows
from dashboard.views.common import backend_for, render_view, wants_fragment
from dashboard.watch import Watch

OPERATIONS_PAGE_SIZE = 10


@require_GET
def home(request):
    folder_id = preferences.of(request.user).default_folder or folders.last_used(request)
    return redirect("image-list", folder_id=folder_id)


@require_GET
def folder_pick(request):
    """The folder picker's target: a GET form, so it works without JavaScript."""
    folder_id = request.GET.get("folder", "").strip()
    if not folders.is_valid(folder_id):
        messages.error(request, "A folder ID is 1 to 50 characters.")
        return redirect("image-list", folder_id=folders.last_used(request))
    return redirect("image-list", folder_id=folder_id)


def _check_folder(folder_id: str) -> None:
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")


@require_GET
def image_list(request, folder_id: str):
    _check_folder(folder_id)
    folders.use(request, folder_id)
    state, errors = parse_state(request.GET, default_size=preferences.page_size(request.user))
    images, next_token, list_error = [], "", None
    latest_ids: Collection[str] = ()
    if not errors:
        try:
            # The page and its latest markers in one call (the public List on a server without it).
            page = backend_for(request).list_images_with_latest(
                folder_id,
                page_size=state.size,
                page_token=state.page,
                filter=state.api_filter(),
                order_by=state.order_by(),
            )
        except InvalidArgument as error:
            errors = violations_to_errors(error.violations)
            if not errors:
                list_error = error.message
        else:
            images = [ImageView.from_proto(image) for image in page.images]
            next_token = page.next_page_token
            latest_ids = (
                page.latest_ids if page.latest_ids is not None else _latest_ids(request, folder_id, images)
            )
    base = reverse("image-list", args=[folder_id])
    hidden = preferences.hidden_columns(request.user)
    pager = paginate(
        scope=state.pager_scope,
        token=state.page,
        came_from=state.after,
        next_token=next_token,
        link=lambda token, after: base + state.at_page(token, after).query(),
    )
    context: dict[str, Any] = {
        "state": state,
        "errors": errors,
        "list_error": list_error,
        "images": images,
        "rows": image_rows(images, selectable=is_editor(request.user), latest_ids=latest_ids),
        "watch": Watch.of(folder_id, images),
        "url": base + state.query(),
        "export_query": replace(state.first_page(), size=state.default_size).query(),
        "first_url": base + state.first_page().query() if state.page else "",
        "pager": pager,
        "sort_columns": _columns(state, base),
        "hidden_columns": hidden,
        "column_choices": [
            (key, label, key not in hidden) for key, label in preferences.HIDEABLE_COLUMNS.items()
        ],
        "saved_views": preferences.saved_views(request.user, folder_id),
        "view_query": replace(state.first_page(), size=state.default_size).query(),
        "count": _count(pager, state, images, bool(errors or list_error), bool(next_token)),
        "clear_url": base
        + replace(
            state.first_page(), name="", name_op=DEFAULT_NAME_OP, family="", statuses=(), labels=""
        ).query(),
        "name_ops": NAME_OPS,
        "statuses": STATUSES,
        "page_sizes": PAGE_SIZES,
    }
    response = render_view(
        request, "images/list.html", context, fragment="results", status=400 if errors else 200
    )
    if wants_fragment(request) and request.htmx.trigger == "filters":
        # The filter form submits every field, empty ones too; the address bar gets the short form.
        push_url(response, context["url"])
    return response


def _latest_ids(request, folder_id: str, images: list[ImageView]) -> set[str]:
    """Which images on the page are their family's latest (newest READY), for a server without
    ListImages: one ListFamilies call for the page's families, which the backend answers from its
    family summary. A server without the extension gets one List call instead, newest READY first,
    as long as the page plus one per family: each family's first image is its latest, and a family
    whose latest lies past that gets no marker rather than a wrong one."""
    families = sorted({image.family for image in images if image.family and image.status == "READY"})
    if not families:
        return set()
    backend = backend_for(request)
    try:
        summary = backend.list_families(folder_id, page_size=len(families), families=families)
        return {family.latest_image.id for family in summary.families if family.HasField("latest_image")}
    except Unimplemented:
        pass
    except BackendError:
        return set()  # the marker is a hint; the list itself still shows
    try:
        response = backend.list_images(
            folder_id,
            page_size=min(1000, len(images) + len(families)),
            filter=f'family IN ({", ".join(quote(f) for f in families)}) AND status = "READY"',
            order_by="createdAt desc",
        )
    except BackendError:
        return set()
    latest: dict[str, str] = {}
    for image in response.images:
        latest.setdefault(image.family, image.id)
    return set(latest.values())


_SORT_ICONS = {"ascending": "▲", "descending": "▼"}


def _columns(state, base: str) -> list[dict]:
    """The table head: sortable columns link to their order and say which way it runs now."""
    columns = []
    for _key, label, sort_key in preferences.LIST_COLUMNS:
        column = {"label": label, "url": ""}
        if sort_key:
            direction = state.sort_direction(sort_key)
            column.update(
                url=base + state.sorted_by(sort_key).query(),
                direction=direction,
                icon=_SORT_ICONS.get(direction, "↕"),
            )
        columns.append(column)
    return columns


def _count(pager, state, images: list, failed: bool, more: bool) -> str:
    """The result count, shown above the table and announced to screen readers."""
    if failed:
        return "No results"
    count = f"{len(images)} image{'' if len(images) == 1 else 's'}"
    if pager.number:
        count += f" on page {pager.number}"
    if more:
        count += ", more on the next page"
    return count + (" (filtered)" if state.is_filtered else "")


def _operations_page(request, backend, image_id: str) -> dict:
    token = clean_token(request.GET.get("ops")) or ""
    response = backend.list_image_operations(image_id, page_size=OPERATIONS_PAGE_SIZE, page_token=token)
    base = reverse("image-detail", args=[image_id])

    def link(page_token: str, after: str | None) -> str:
        pairs = [("ops", page_token), *([("ops_after", after)] if after is not None else [])]
        return f"{base}?{urlencode(pairs)}#operations"

    return {
        "operations": [OperationView.from_proto(op) for op in response.operations],
        "ops_pager": paginate(
            scope="operations",
            token=token,
            came_from=clean_token(request.GET.get("ops_after")),
            next_token=response.next_page_token,
            link=link,
        ),
    }


def _last_operation(request, backend, image_id: str) -> OperationView | None:
    """The latest operation on the image, as the backend tells it now: the person's own from the
    tray (whose copy may predate its end), else anyone's from the folder's operations. A gone image
    has no folder to ask, so the page says which folder it showed (else the current one)."""
    known = next((op for op in tray.entries(request) if op.image_id == image_id), None)
    if known is not None:
        try:
            return OperationView.from_proto(backend.get_operation(known.id), image_name=known.image_name)
        except BackendError:
            return known
    folder_id = request.GET.get("folder") or folders.current(request)
    if not folders.is_valid(folder_id):
        return None
    try:
        found = backend.list_folder_operations(folder_id, image_id=image_id, page_size=1)
    except BackendError:  # Unimplemented on a server without the extension too
        return None
    return OperationView.from_proto(found.operations[0][0]) if found.operations else None


@require_GET
def image_watch(request):
    """The page's one status poll (see dashboard/watch.py); viewers may use it too."""
    watch = Watch.from_query(request.GET)
    if not watch.shown or not folders.is_valid(watch.folder_id):
        return HttpResponseStopPolling()
    try:
        response = backend_for(request).list_images(
            watch.folder_id, page_size=len(watch.shown), filter=watch.api_filter()
        )
    except BackendError:
        # An outage is the page's business when the person acts; the poll only waits longer.
        return TemplateResponse(request, "partials/watch.html", {"watch": watch.later()})
    statuses = {image.id: STATUS_NAMES.get(image.status, "") for image in response.images}
    if watch.changed(statuses):
        # The page's sections listen for this, refresh, and bring a new watcher if still needed.
        return trigger_client_event(HttpResponseStopPolling(), "images-changed")
    return TemplateResponse(request, "partials/watch.html", {"watch": watch.later()})


@require_GET
def image_detail(request, image_id: str):
    backend = backend_for(request)
    try:
        image = ImageView.from_proto(backend.get_image(image_id))
    except NotFound:
        # An open page whose image was just deleted, or whose import failed or was cancelled (the
        # image goes with it): say what happened, and why, where the person is.
        ended = _last_operation(request, backend, image_id)
        if not wants_fragment(request) and ended is None:
            raise
        context = {
            "gone": True,
            "image_id": image_id,
            "ended": ended,
            "clear_alerts": wants_fragment(request),
        }
        return render_view(
            request,
            "images/detail.html",
            context,
            fragment="detail",
            status=200 if wants_fragment(request) else 404,
        )
    folders.use(request, image.folder_id)
    latest = backend.latest_by_family(image.folder_id, image.family) if image.family else None
    context = {
        "image": image,
        "latest": ImageView.from_proto(latest) if latest else None,
        "is_latest": latest is not None and latest.id == image.id,
        "watch": Watch.of(image.folder_id, [image]),
        **_operations_page(request, backend, image_id),
    }
    fragment = "operations" if request.GET.get("ops") is not None and wants_fragment(request) else "detail"
    return render_view(request, "images/detail.html", context, fragment=fragment)
