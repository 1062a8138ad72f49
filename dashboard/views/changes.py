"""Changing images: create, edit (with a preview and a stale-form check), delete and bulk delete."""

from __future__ import annotations

import uuid
from typing import Any, cast

import grpc
from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import folders, tray
from dashboard.access import editor_required
from dashboard.backend import (
    BackendError,
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from dashboard.diffs import changed_fields, diff
from dashboard.forms import SOURCE_KINDS, CreateImageForm, EditImageForm, label_rows, sign_snapshot
from dashboard.impact import (
    family_impact,
    images_by_id,
    needs_typed_confirmation,
    typed_confirmation_ok,
)
from dashboard.merge import merge
from dashboard.presenters import ImageView
from dashboard.units import sizes_for_people, split_size
from dashboard.views.common import backend_for, render_view, wants_fragment
from images.rules import check_id

MAX_BULK = 200
CONFIRM_ERROR = "Type the folder's name or the number of images to confirm."


def _fresh_key(form) -> None:
    """A new idempotency key once a submission reached the backend and failed: the retry is a new request."""
    form.data = form.data.copy()
    form.data["idempotency_key"] = uuid.uuid4().hex


UNREACHABLE = (
    "The image service is not reachable, so nothing was saved. Your input is kept: "
    "submit again once it is back, and it is done once."
)


def _refused(form, error: InvalidArgument | Conflict, name: str) -> int:
    """Puts the backend's verdict next to the fields it names; returns the response status."""
    if isinstance(error, Conflict):
        if error.code == grpc.StatusCode.ALREADY_EXISTS and name:
            form.add_error(
                "name", f"An image named “{name}” already exists in this folder. Choose another name."
            )
        else:
            form.add_error(None, sizes_for_people(error.message))
        return 409
    if error.violations:
        form.add_violations(error.violations)
    else:
        form.add_error(None, sizes_for_people(error.message))
    return 400


def _prefill(backend, request) -> dict:
    """Initial values: a source picked on a list page ("Create image from this"), or "new version
    of this image": family, description, labels, product ids, OS."""
    kind, picked = request.GET.get("source_kind", ""), request.GET.get("source_id", "")
    if kind in dict(SOURCE_KINDS) and kind != "uri" and picked and not check_id(picked, "source_id"):
        return {"source_kind": kind, "source_id": picked}
    source_id = request.GET.get("from", "")
    if not source_id or check_id(source_id, "from"):
        return {"family": request.GET.get("family", "")[:63]}
    try:
        image = ImageView.from_proto(backend.get_image(source_id))
    except NotFound:
        return {}
    os_value = {"Linux": "1", "Windows": "2"}.get(image.os, "")
    return {
        "family": image.family,
        "description": image.description,
        "labels": image.labels,
        "product_ids": image.product_ids,
        "os": os_value,
    }


@editor_required
@require_http_methods(["GET", "POST"])
def image_create(request, folder_id: str):
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")
    folders.use(request, folder_id)
    backend = backend_for(request)
    status, extra_rows = 200, 1
    if request.method == "GET":
        form = CreateImageForm(initial=_prefill(backend, request))
    else:
        form = CreateImageForm(request.POST)
        if "add_label" in request.POST:  # the labels editor without JavaScript
            extra_rows = 2
        elif form.is_valid():
            data = form.cleaned_data
            kind, source = form.source()
            latest = None
            try:
                if kind == "family":
                    latest = backend.latest_by_family(folder_id, source)
                    if latest is None:
                        raise FailedPrecondition(
                            f"Family “{source}” has no READY image in this folder.",
                            grpc.StatusCode.FAILED_PRECONDITION,
                        )
                    kind, source = "image_id", latest.id
                operation = backend.create_image(
                    folder_id=folder_id,
                    source_kind=kind,
                    source=source,
                    name=data["name"],
                    description=data["description"],
                    family=data["family"],
                    labels=data["labels"],
                    min_disk_size=data["min_disk_size"],
                    product_ids=data["product_ids"],
                    os_type=int(data["os"] or 0),
                    pooled=data["pooled"],
                    idempotency_key=data["idempotency_key"] or None,
                )
            except (InvalidArgument, Conflict) as error:
                status = _refused(form, error, data["name"])
            except FailedPrecondition as error:
                form.add_error("source_id" if kind != "uri" else "uri", error.message)
                status = 400
            except Unavailable:
                # Same idempotency key on the retry: if the request did get through, it is not repeated.
                form.add_error(None, UNREACHABLE)
                return _create_page(request, form, folder_id, extra_rows, status=503)
            else:
                started = tray.remember(request, operation, image_name=data["name"])
                made_from = ""
                if latest is not None:
                    made_from = (
                        f" from {latest.name or latest.id} ({latest.id}), "
                        f"the latest image of family {latest.family}"
                    )
                messages.success(request, f"Creating image {data['name'] or started.image_id}{made_from}.")
                return redirect("image-detail", image_id=started.image_id)
            _fresh_key(form)
        else:
            status = 400
    return _create_page(request, form, folder_id, extra_rows, status=status)


def _create_page(request, form, folder_id: str, extra_rows: int, *, status: int):
    # The source field is a combobox whose options the picker view finds as the person types (see
    # dashboard.js); rendering this page asks the backend nothing for it. Without a script it is a
    # plain ID field.
    picker_url = reverse("source-picker", args=[folder_id])
    form.fields["source_id"].widget.attrs.update(
        {
            "role": "combobox",
            "aria-autocomplete": "list",
            "aria-expanded": "false",
            "aria-controls": "source-listbox",
            "data-picker-input": "",
            "hx-get": picker_url,
            "hx-trigger": "focus, input changed delay:250ms, change from:[data-source-kinds]",
            "hx-include": "[data-source-kinds] input:checked",
            "hx-target": "#source-picker",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
            "hx-push-url": "false",
        }
    )
    context = {
        "form": form,
        "label_rows": label_rows(form, extra_rows),
        "folder_id": folder_id,
    }
    return render_view(request, "images/create.html", context, status=status)


def _editing(request, image_id: str) -> tuple[ImageView, dict]:
    image = ImageView.from_proto(backend_for(request).get_image(image_id))
    folders.use(request, image.folder_id)
    context = {"image": image, "step": "edit", "changes": [], "server_changes": [], "notice": ""}
    return image, context


def _unreachable_edit(request, image_id: str, form, *, extra_rows: int = 1):
    """The posted form again while the backend is down: nothing is lost, the same key retries."""
    image = ImageView.unknown(image_id, folders.current(request))
    context = {"image": image, "step": "edit", "changes": [], "server_changes": [], "notice": ""}
    form.is_valid()
    form.add_error(None, UNREACHABLE)
    return _edit_page(request, context, form, status=503, extra_rows=extra_rows)


def _edit_page(request, context: dict, form, *, status: int = 200, extra_rows: int = 1):
    context.update(form=form, label_rows=label_rows(form, extra_rows))
    return render_view(request, "images/edit.html", context, status=status)


def _rebased(form: EditImageForm, merged: dict, current: dict, conflicts) -> EditImageForm:
    """The form again, opened on the image as it is now: the person's edits on top of everyone
    else's, and each field both changed marked for the person to settle."""
    size, unit = split_size(merged["min_disk_size"])
    data = cast(QueryDict, form.data).copy()  # a bound form's data is the request's QueryDict
    data.update(
        {"name": merged["name"], "description": merged["description"], "snapshot": sign_snapshot(current)}
    )
    data.setlist("min_disk_size_0", [size])
    data.setlist("min_disk_size_1", [unit])
    data.setlist("label_key", list(merged["labels"]))
    data.setlist("label_value", list(merged["labels"].values()))
    rebased = EditImageForm(data)
    rebased.is_valid()
    for conflict in conflicts:
        rebased.add_error(
            conflict.field,
            f"{conflict.label}: someone else changed this to “{conflict.theirs}” after you opened the form; "
            f"you set “{conflict.mine}”. Keep yours or take theirs, then review again.",
        )
    return rebased


def _merge(request, image: ImageView, form: EditImageForm, context: dict):
    """The values to save, merged with whatever was saved since the form opened; or the page to
    show instead (the form rebased on the image as it is now, 409) when something was."""
    current = image.editable()
    opened = form.cleaned_data["snapshot"]
    merged, conflicts = merge(opened, current, form.values())
    context["changes"] = diff(current, merged)
    if opened == current:
        return merged, None
    context["server_changes"] = diff(opened, current)
    context["conflicts"] = conflicts
    return None, _edit_page(request, context, _rebased(form, merged, current, conflicts), status=409)


@editor_required
@require_http_methods(["GET", "POST"])
def image_edit(request, image_id: str):
    """The form (GET); posted, the review of what will change, or the form again."""
    if request.method == "GET":
        image, context = _editing(request, image_id)
        return _edit_page(request, context, EditImageForm.for_image(image.editable()))
    form = EditImageForm(request.POST)
    try:
        image, context = _editing(request, image_id)
    except Unavailable:
        return _unreachable_edit(request, image_id, form)
    if "add_label" in request.POST or "back" in request.POST:  # the labels editor without JavaScript
        return _edit_page(request, context, form, extra_rows=2 if "add_label" in request.POST else 1)
    if not form.is_valid():
        return _edit_page(request, context, form, status=400)
    merged, page = _merge(request, image, form, context)
    if page:
        return page
    if not context["changes"]:
        context["notice"] = "Nothing to save: the form matches the image."
    else:
        size, unit = split_size(merged["min_disk_size"])
        context.update(step="review", merged=merged, size=size, unit=unit)
    return _edit_page(request, context, form)


@editor_required
@require_POST
def image_edit_preview(request, image_id: str):
    """The live "changes so far" panel beside the form: what a save would change, nothing saved."""
    if not wants_fragment(request):
        return redirect("image-edit", image_id=image_id)
    image, context = _editing(request, image_id)
    form = EditImageForm(request.POST)
    if form.is_valid():
        merged, _ = merge(form.cleaned_data["snapshot"], image.editable(), form.values())
        context["changes"] = diff(image.editable(), merged)
    else:
        context["preview_invalid"] = True
    return render_view(request, "images/edit.html", context, fragment="preview")


@editor_required
@require_POST
def image_edit_save(request, image_id: str):
    """Saves the reviewed changes: only the fields the person changed go in update_mask."""
    form = EditImageForm(request.POST)
    try:
        image, context = _editing(request, image_id)
    except Unavailable:
        return _unreachable_edit(request, image_id, form)
    if not form.is_valid():
        return _edit_page(request, context, form, status=400)
    merged, page = _merge(request, image, form, context)
    if page:
        return page
    paths = changed_fields(image.editable(), merged)
    if not paths:
        context["notice"] = "Nothing to save: the form matches the image."
        return _edit_page(request, context, form)
    try:
        operation = backend_for(request).update_image(
            image_id,
            {path: merged[path] for path in paths},
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
    except (InvalidArgument, Conflict) as error:
        status = _refused(form, error, merged["name"])
    except FailedPrecondition as error:
        form.add_error(None, f"{error.message} Wait for it to finish, then save again.")
        status = 400
    except Unavailable:
        return _unreachable_edit(request, image_id, form)
    else:
        tray.remember(request, operation, image_name=merged["name"] or image.name)
        count = len(context["changes"])
        messages.success(request, f"Saving {count} change{pluralize(count)} to {image.title}.")
        return redirect("image-detail", image_id=image_id)
    _fresh_key(form)
    return _edit_page(request, context, form, status=status)


@editor_required
@require_http_methods(["GET", "POST"])
def image_delete(request, image_id: str):
    backend = backend_for(request)
    key = request.POST.get("idempotency_key") or uuid.uuid4().hex
    context: dict[str, Any] = {"impacts": [], "typed_confirm": False, "error": "", "idempotency_key": key}
    try:
        image = ImageView.from_proto(backend.get_image(image_id))
    except Unavailable:
        if request.method == "GET":
            raise
        context.update(image=ImageView.unknown(image_id, folders.current(request)), error=UNREACHABLE)
        return render_view(request, "images/delete.html", context, status=503)
    folders.use(request, image.folder_id)
    context["image"] = image
    status = 200
    context["impacts"] = family_impact(backend, image.folder_id, [image])
    context["typed_confirm"] = needs_typed_confirmation(1, context["impacts"])
    typed = request.POST.get("confirm", "")
    if (
        request.method == "POST"
        and context["typed_confirm"]
        and not typed_confirmation_ok(typed, folder_id=image.folder_id, count=1)
    ):
        context["confirm_error"] = CONFIRM_ERROR
        status = 400
    elif request.method == "POST":
        try:
            operation = backend.delete_image(image_id, idempotency_key=key)
        except (FailedPrecondition, Conflict) as error:
            context.update(error=error.message, idempotency_key=uuid.uuid4().hex)
            status = 400
        except Unavailable:
            context["error"] = UNREACHABLE
            status = 503
        else:
            tray.remember(request, operation, image_name=image.name)
            messages.success(request, f"Deleting image {image.title}.")
            return redirect("image-list", folder_id=image.folder_id)
    return render_view(request, "images/delete.html", context, status=status)


def _list_url(request, folder_id: str) -> str:
    base = reverse("image-list", args=[folder_id])
    back = request.POST.get("back", "")
    return back if back.startswith(base) and "//" not in back else base


@editor_required
@require_POST
def bulk_delete(request, folder_id: str):
    """Step 1 (confirm) names every selected image; step 2 (delete) reports a result per image."""
    if not folders.is_valid(folder_id):
        raise Http404("No such folder.")
    folders.use(request, folder_id)
    back = _list_url(request, folder_id)
    ids = list(dict.fromkeys(i for i in request.POST.getlist("ids") if not check_id(i, "id")))[:MAX_BULK]
    if not ids:
        messages.info(request, "Select one or more images to delete first.")
        return redirect(back)
    backend = backend_for(request)
    step = request.POST.get("step", "confirm")
    # Both steps ask the backend afresh: the confirmation that is required is decided here, not by
    # what the confirm page posted back.
    images = images_by_id(backend, folder_id, ids)
    impacts = family_impact(backend, folder_id, list(images.values()))
    typed_confirm = needs_typed_confirmation(len(images), impacts)
    context = {
        "step": step,
        "back": back,
        "folder_id": folder_id,
        "impacts": impacts,
        "typed_confirm": typed_confirm,
        "count": len(images),
    }
    status = 200
    if (
        step == "delete"
        and typed_confirm
        and not typed_confirmation_ok(request.POST.get("confirm", ""), folder_id=folder_id, count=len(images))
    ):
        step = context["step"] = "confirm"
        context["confirm_error"] = CONFIRM_ERROR
        status = 400
    rows = []
    for image_id in ids:
        row = {"id": image_id, "image": images.get(image_id), "ok": None, "message": ""}
        if step == "delete":
            try:
                operation = backend.delete_image(image_id)
            except BackendError as error:
                row.update(ok=False, message=error.message)
            else:
                view = tray.remember(request, operation, image_name=row["image"].name if row["image"] else "")
                row.update(ok=True, message="Deleting", operation=view)
        elif row["image"] is None:
            row.update(ok=False, message="Already gone")
        rows.append(row)
    context["rows"] = rows
    if step == "delete":
        context["succeeded"] = sum(1 for row in rows if row["ok"])
    return render_view(request, "images/bulk_delete.html", context, status=status)
