"""Image families of a folder, served from the family summary: ListFamilies, and which images of
a List page are their family's latest (the extension service's ListImages)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from images import rules
from images.domain.images import image_list
from images.errors import FieldViolation, raise_if
from images.store import pagination, queries
from images.store.models import ImageFamily, ImageStatus


@dataclass(frozen=True)
class Family:
    name: str
    image_count: int
    last_change_at: dt.datetime
    latest_image: queries.ImageRecord | None  # the newest READY image, if the family has one


# At most this many names in one ListFamilies `families` filter (a page of images holds fewer).
MAX_FAMILY_NAMES = 1000


def families_list(
    *, folder_id: str, page_size: int = 0, page_token: str = "", families: Sequence[str] = ()
) -> tuple[list[Family], str]:
    """Families in name order, each with its count, last change and latest READY image; only the
    named ones when `families` is given."""
    names = sorted(set(families))
    violations = (
        rules.check_id(folder_id, "folder_id")
        + rules.check_page_size(page_size)
        + rules.check_page_token(page_token)
    )
    if len(names) > MAX_FAMILY_NAMES:
        violations.append(FieldViolation("families", f"at most {MAX_FAMILY_NAMES} families"))
    for name in names:
        violations += rules.check_family(name, "families", required=True)
    raise_if(violations)
    size = rules.page_size_or_default(page_size)
    scope = pagination.token_scope("families", folder_id, *names)
    queryset = ImageFamily.objects.filter(folder_id=folder_id)
    if names:
        queryset = queryset.filter(family__in=names)
    if page_token:
        (after,) = pagination.decode_token(page_token, scope=scope, arity=1)
        queryset = queryset.filter(family__gt=after)
    # One range of the summary's (folder, family) index, and the records of the page's latest
    # images in one more query: two statements a page, however many images the families hold.
    groups = list(
        queryset.order_by("family").values("family", "image_count", "last_change_at", "latest_image_id")[
            : size + 1
        ]
    )
    next_token = ""
    if len(groups) > size:
        groups = groups[:size]
        next_token = pagination.encode_token([groups[-1]["family"]], scope=scope)
    latest_images = queries.images_by_ids(
        [group["latest_image_id"] for group in groups if group["latest_image_id"]]
    )
    page = [
        Family(
            name=group["family"],
            image_count=group["image_count"],
            last_change_at=group["last_change_at"],
            latest_image=latest_images.get(group["latest_image_id"] or ""),
        )
        for group in groups
    ]
    return page, next_token


@dataclass(frozen=True)
class MarkedPage:
    images: list[queries.ImageRecord]
    next_page_token: str
    latest_image_ids: list[str]  # the page's images that are their family's latest, in page order


def image_list_with_latest(
    *, folder_id: str, page_size: int = 0, page_token: str = "", filter: str = "", order_by: str = ""
) -> MarkedPage:
    """A List page (image_list's validation, errors and tokens) and which of its images are their
    family's latest: one more statement, on the family summary, and only for a page holding a READY
    image of a family (no other image can be a family's latest)."""
    images, next_token = image_list(
        folder_id=folder_id, page_size=page_size, page_token=page_token, filter=filter, order_by=order_by
    )
    families = {image.family for image in images if image.family and image.status == ImageStatus.READY}
    latest = queries.latest_of_families(folder_id, families)
    return MarkedPage(images, next_token, [image.id for image in images if image.id in latest])
