"""The person's own settings: the preferences page, the theme switch, the column chooser, saved views."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard import folders, preferences
from dashboard.filters import DEFAULT_PAGE_SIZE, parse_state
from dashboard.models import THEMES, SavedView


def _back(request, default: str = "/"):
    target = request.POST.get("next", "") or default
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return redirect(target)


def preferences_page(request):
    form = preferences.PreferencesForm.for_user(
        request.user, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        form.save(request.user)
        messages.success(request, "Preferences saved.")
        return redirect("preferences")
    context = {
        "form": form,
        "views": preferences.saved_views(request.user),
        "section": "preferences",
    }
    return TemplateResponse(request, "preferences.html", context, status=400 if form.errors else 200)


@require_POST
def theme_set(request):
    """The header's theme switch: a plain form, so it works without JavaScript."""
    theme = request.POST.get("theme", "")
    if theme in THEMES:
        preferences.update(request.user, theme=theme)
    return _back(request)


@require_POST
def columns_set(request):
    """The list's column chooser: the checked columns show, the others are hidden."""
    visible = request.POST.getlist("columns")
    hidden = [key for key in preferences.HIDEABLE_COLUMNS if key not in visible]
    preferences.update(request.user, hidden_columns=hidden)
    return _back(request)


def view_query(query: str) -> str:
    """A list query reduced to what a view is: its filter and sort (no page, no page size)."""
    state, _ = parse_state(QueryDict(query.lstrip("?")))
    return replace(state.first_page(), size=DEFAULT_PAGE_SIZE).query()


@require_POST
def view_save(request, folder_id: str):
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")
    name = request.POST.get("name", "").strip()[:60]
    query = view_query(request.POST.get("query", ""))
    list_url = reverse("image-list", args=[folder_id])
    if not name:
        messages.error(request, "Give the view a name to save it.")
        return redirect(list_url + query)
    SavedView.objects.update_or_create(
        user=request.user, folder_id=folder_id, name=name, defaults={"query": query}
    )
    messages.success(request, f"Saved the view “{name}”.")
    return redirect(list_url + query)


@require_POST
def view_delete(request, view_id: int):
    deleted, _ = SavedView.objects.filter(user=request.user, pk=view_id).delete()
    if not deleted:
        raise Http404("No such saved view.")
    messages.success(request, "Saved view deleted.")
    return _back(request, reverse("preferences"))
