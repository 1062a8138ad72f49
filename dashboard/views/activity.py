"""The folder's operations page (everyone's, newest first, live while any runs) and the nav's running count."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING, push_url

from dashboard import folders
from dashboard.backend import BackendError, FolderOperations, InvalidArgument, Unavailable, Unimplemented
from dashboard.pager import clean_token, paginate
from dashboard.presenters import OperationView
from dashboard.views.common import backend_for, render_view, wants_fragment
from dashboard.watch import clean_wait, longer

PAGE_SIZE = 50
STATUSES = {"": "Any status", "running": "Running", "done": "Done", "failed": "Failed or cancelled"}
MAX_USER = 64  # a caller id is an API token's name (the backend's limit)
# The nav's count looks at one page of running operations; past it the nav says "100+".
COUNT_LIMIT = 100


def _check_folder(folder_id: str) -> None:
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")


def _state(query) -> dict[str, str]:
    status = query.get("status", "")
    return {
        "status": status if status in STATUSES else "",
        "user": query.get("user", "").strip()[:MAX_USER],
    }


def _query(filters: list[tuple[str, str]], page: str = "", after: str | None = None) -> str:
    """The page's query string: the filters that are set, then the page token and, on a Next link,
    the token it came from ("" for the first page, so the pager can number the page)."""
    pairs = [(key, value) for key, value in filters if value]
    if page:
        pairs.append(("page", page))
        if after is not None:
            pairs.append(("after", after))
    return "?" + urlencode(pairs) if pairs else ""


@require_GET
def folder_operations(request, folder_id: str):
    """Every operation in the folder. While one on the page runs, the page carries one poll for the
    whole page (one ListFolderOperations call), waiting twice as long each time as dashboard/watch.py
    does; a poll that finds nothing running answers 286."""
    _check_folder(folder_id)
    folders.use(request, folder_id)
    state = _state(request.GET)
    token = clean_token(request.GET.get("page")) or ""
    came_from = clean_token(request.GET.get("after"))
    polling = wants_fragment(request) and "wait" in request.GET
    wait = clean_wait(request.GET.get("wait"))
    backend = backend_for(request)
    result, list_error = FolderOperations([], ""), ""

    def fetch(page_token: str) -> FolderOperations:
        return backend.list_folder_operations(
            folder_id,
            status=state["status"],
            created_by=state["user"],
            page_size=PAGE_SIZE,
            page_token=page_token,
        )

    try:
        try:
            result = fetch(token)
        except InvalidArgument:
            if not token:
                raise
            token, came_from = "", None  # an expired page link: show the first page
            result = fetch(token)
    except Unimplemented:
        list_error = "This server does not list a folder's operations."
    except Unavailable as error:
        if not polling:
            raise
        list_error = error.message  # keep polling through a backend restart, and say so
    except BackendError as error:
        list_error = error.message
    operations = [OperationView.from_proto(operation, progress) for operation, progress in result.operations]
    running = any(op.running for op in operations) or (polling and bool(list_error))
    base = reverse("folder-operations", args=[folder_id])
    filters = [("status", state["status"]), ("user", state["user"])]

    def link(page: str, after: str | None) -> str:
        return base + _query(filters, page, after)

    pager = paginate(
        scope=f"folder-operations/{PAGE_SIZE}",
        token=token,
        came_from=came_from,
        next_token=result.next_page_token,
        link=link,
    )
    here = base + _query(filters, token, came_from)
    next_wait = longer(wait) if polling else clean_wait(None)
    context = {
        "operations": operations,
        "running": running,
        "list_error": list_error,
        "state": state,
        "statuses": STATUSES,
        "pager": pager,
        "url": here,
        "poll_url": f"{here}{'&' if '?' in here else '?'}{urlencode({'wait': next_wait})}",
        "wait": next_wait,
        "clear_url": base,
        "is_filtered": any(value for _, value in filters),
    }
    response = render_view(request, "operations/list.html", context, fragment="operations")
    if polling and not running:
        response.status_code = HTMX_STOP_POLLING
    if wants_fragment(request) and request.htmx.trigger == "operation-filters":
        push_url(response, base + _query(filters))
    return response


@require_GET
def running_count(request, folder_id: str):
    """The nav's "N running", fetched by the nav after the page has loaded (so no page render waits
    on it); without JavaScript the nav is a plain link, and this URL leads to the running ones."""
    _check_folder(folder_id)
    if not wants_fragment(request):
        return redirect(reverse("folder-operations", args=[folder_id]) + "?status=running")
    try:
        result = backend_for(request).list_folder_operations(
            folder_id, status="running", page_size=COUNT_LIMIT
        )
    except BackendError:
        return HttpResponse("")  # a hint only: the page itself says what went wrong
    count = len(result.operations)
    if not count:
        return HttpResponse("")
    shown = f"{count}+" if result.next_page_token else str(count)
    return HttpResponse(format_html('<span class="nav-count">{} running</span>', shown))
