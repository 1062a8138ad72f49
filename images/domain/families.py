"""Image families of a folder (the extension service's ListFamilies), served from the family index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Subquery

from images import rules
from images.errors import raise_if
from images.store import pagination, queries
from images.store.models import Image, ImageStatus


@dataclass(frozen=True)
class Family:
    name: str
    image_count: int
    last_change_at: dt.datetime
    latest_image: queries.ImageRecord | None  # the newest READY image, if the family has one


def families_list(*, folder_id: str, page_size: int = 0, page_token: str = "") -> tuple[list[Family], str]:
    """Families in name order, each with its count, last change and latest READY image."""
    raise_if(
        rules.check_id(folder_id, "folder_id")
        + rules.check_page_size(page_size)
        + rules.check_page_token(page_token)
    )
    size = rules.page_size_or_default(page_size)
    scope = pagination.token_scope("families", folder_id)
    queryset = Image.objects.filter(folder_id=folder_id).exclude(family="")
    if page_token:
        (after,) = pagination.decode_token(page_token, scope=scope, arity=1)
        queryset = queryset.filter(family__gt=after)
    # Each family's latest READY image id comes with its group (one range of the family index
    # each), and the records of a page's latest images in one more query: two statements a page.
    latest = (
        Image.objects.filter(folder_id=folder_id, family=OuterRef("family"), status=ImageStatus.READY)
        .order_by("-created_at", "-id")
        .values("id")[:1]
    )
    groups = list(
        queryset.values("family")
        .annotate(image_count=Count("id"), last_change_at=Max("created_at"), latest_id=Subquery(latest))
        .order_by("family")[: size + 1]
    )
    next_token = ""
    if len(groups) > size:
        groups = groups[:size]
        next_token = pagination.encode_token([groups[-1]["family"]], scope=scope)
    latest_images = queries.images_by_ids([group["latest_id"] for group in groups if group["latest_id"]])
    families = [
        Family(
            name=group["family"],
            image_count=group["image_count"],
            last_change_at=group["last_change_at"],
            latest_image=latest_images.get(group["latest_id"]),
        )
        for group in groups
    ]
    return families, next_token
