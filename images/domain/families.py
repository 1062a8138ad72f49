"""Image families of a folder (the extension service's ListFamilies), served from the family index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max

from images import rules
from images.errors import raise_if
from images.store import pagination, queries
from images.store.models import Image


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
    groups = list(
        queryset.values("family")
        .annotate(image_count=Count("id"), last_change_at=Max("created_at"))
        .order_by("family")[: size + 1]
    )
    next_token = ""
    if len(groups) > size:
        groups = groups[:size]
        next_token = pagination.encode_token([groups[-1]["family"]], scope=scope)
    families = [
        Family(
            name=group["family"],
            image_count=group["image_count"],
            last_change_at=group["last_change_at"],
            latest_image=queries.latest_in_family(folder_id, group["family"]),
        )
        for group in groups
    ]
    return families, next_token
