"""Export of the image list's current view (every page of its filter and sort) as CSV or JSON, streamed."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from dashboard import folders
from dashboard.backend import BackendError, InvalidArgument
from dashboard.filters import parse_state
from dashboard.presenters import ImageView
from dashboard.views.common import backend_for

log = logging.getLogger(__name__)

# The API's largest page: the fewest round trips while memory stays one page deep.
EXPORT_PAGE_SIZE = 1000
FIELDS = (
    "id",
    "name",
    "family",
    "status",
    "os",
    "storage_size",
    "min_disk_size",
    "size",
    "labels",
    "product_ids",
    "pooled",
    "created_at",
    "description",
)
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _record(image: ImageView) -> dict:
    return {
        "id": image.id,
        "name": image.name,
        "family": image.family,
        "status": image.status,
        "os": image.os,
        "storage_size": image.storage_size,
        "min_disk_size": image.min_disk_size,
        "size": image.size,
        "labels": image.labels,
        "product_ids": image.product_ids,
        "pooled": image.pooled,
        "created_at": image.created_at.isoformat() if image.created_at else "",
        "description": image.description,
    }


class _Line:
    """csv.writer's file: hands back each row instead of storing it (Django's streaming CSV recipe)."""

    def write(self, value: str) -> str:
        return value


def _csv_chunk(writer, images: list[ImageView]) -> str:
    rows = []
    for image in images:
        record = _record(image)
        record["labels"] = " ".join(f"{key}={value}" for key, value in image.labels.items())
        record["product_ids"] = " ".join(image.product_ids)
        rows.append(writer.writerow([record[field] for field in FIELDS]))
    return "".join(rows)


def _json_chunk(images: list[ImageView], first: bool) -> str:
    items = ",\n".join(json.dumps(_record(image), ensure_ascii=False) for image in images)
    return ("" if first or not items else ",\n") + items


@require_GET
def image_export(request, folder_id: str, fmt: str):
    if fmt not in CONTENT_TYPES or not folders.is_valid(folder_id):
        raise Http404("No such export.")
    state, errors = parse_state(request.GET)
    if errors:
        return HttpResponse("\n".join(errors.values()), status=400, content_type="text/plain")
    backend = backend_for(request)

    def page(token: str):
        return backend.list_images(
            folder_id,
            page_size=EXPORT_PAGE_SIZE,
            page_token=token,
            filter=state.api_filter(),
            order_by=state.order_by(),
        )

    try:
        first = page("")  # before the response starts, so a refused filter is still a 400
    except InvalidArgument as error:
        return HttpResponse(error.message, status=400, content_type="text/plain")

    def pages() -> Iterator[list[ImageView]]:
        response = first
        while True:
            yield [ImageView.from_proto(image) for image in response.images]
            if not response.next_page_token:
                return
            try:
                response = page(response.next_page_token)
            except BackendError as error:
                # Headers are gone by now: end the file short (a JSON export is then visibly cut off).
                log.warning("export of %s stopped: %s", folder_id, error.message)
                return

    def csv_body() -> Iterator[str]:
        writer = csv.writer(_Line())
        yield writer.writerow(FIELDS)
        for images in pages():
            yield _csv_chunk(writer, images)

    def json_body() -> Iterator[str]:
        yield "[\n"
        first_chunk = True
        for images in pages():
            chunk = _json_chunk(images, first_chunk)
            first_chunk = first_chunk and not chunk
            yield chunk
        yield "\n]\n"

    response = StreamingHttpResponse(
        csv_body() if fmt == "csv" else json_body(), content_type=CONTENT_TYPES[fmt]
    )
    name = f"images-{folder_id}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    return response
