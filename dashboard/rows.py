"""The image table's rows, rendered in Python: the list's hot path (50+ rows a page, every keystroke).

Django's template engine costs about 0.2 ms a row here, which alone would take the fragment past
its 10 ms budget; this renders the same markup in a tenth of that. Every value goes through
html.escape; URLs are built from one reverse() per page.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from dashboard.presenters import ImageView
from dashboard.templatetags.dashboard import status_class
from dashboard.units import human_bytes

_MARK = "__id__"


def _size_cell(size: int) -> str:
    return f'<td class="num" title="{size:,} bytes">{human_bytes(size)}</td>'


def _labels(labels: dict[str, str]) -> str:
    chips = []
    for key, value in labels.items():
        value_html = f'<span class="chip-value">{escape(value)}</span>' if value else ""
        chips.append(f'<span class="chip"><span class="chip-key">{escape(key)}</span>{value_html}</span>')
    return "".join(chips)


def image_rows(images: list[ImageView], *, selectable: bool) -> SafeString:
    detail = reverse("image-detail", args=[_MARK])
    family_pages: dict[str, str] = {}  # folder → family URL with a marker for the family
    out = []
    for image in images:
        image_id = escape(image.id)
        url = escape(detail.replace(_MARK, quote(image.id, safe="")))
        cells = []
        if selectable:
            cells.append(
                f'<td class="col-check"><input type="checkbox" name="ids" value="{image_id}" '
                f'aria-label="Select {escape(image.title)}"></td>'
            )
        name = escape(image.name) if image.name else "(no name)"
        cells.append(
            f'<td class="col-name"><a href="{url}">{name}</a><span class="id">{image_id}</span></td>'
        )
        if image.family:
            if image.folder_id not in family_pages:
                family_pages[image.folder_id] = reverse("family-detail", args=[image.folder_id, _MARK])
            family_url = escape(family_pages[image.folder_id].replace(_MARK, quote(image.family, safe="")))
            cells.append(f'<td><a href="{family_url}">{escape(image.family)}</a></td>')
        else:
            cells.append('<td><span class="muted">—</span></td>')
        status = escape(image.status)
        cells.append(f'<td><span class="badge {status_class(image.status)}">{status.lower()}</span></td>')
        cells.append(_size_cell(image.storage_size))
        cells.append(_size_cell(image.min_disk_size))
        cells.append(f"<td>{escape(image.os) or '—'}</td>")
        cells.append(f'<td class="col-labels">{_labels(image.labels)}</td>')
        if image.created_at:
            created = image.created_at
            cells.append(
                f'<td class="nowrap"><time datetime="{created.isoformat()}">'
                f"{created:%Y-%m-%d %H:%M}</time></td>"
            )
        else:
            cells.append("<td></td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return mark_safe("\n".join(out))  # noqa: S308 (every value above is escaped)
