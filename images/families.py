"""Image families of a folder (the extension service's ListFamilies), served from the family index."""

from __future__ import annotations

from django.db.models import Count, Max

from images import convert, pagination, rules
from images.api.gen.imageservice.v1 import extension_pb2
from images.errors import raise_if
from images.models import Image, ImageStatus


def families_list(*, folder_id: str, page_size: int = 0, page_token: str = "") -> tuple[list, str]:
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
    families = []
    for group in groups:
        latest = (
            Image.objects.filter(folder_id=folder_id, family=group["family"], status=ImageStatus.READY)
            .order_by("-created_at", "-id")
            .first()
        )
        family = extension_pb2.Family(
            name=group["family"],
            image_count=group["image_count"],
            last_change_at=convert.timestamp(group["last_change_at"]),
        )
        if latest is not None:
            family.latest_image.CopyFrom(convert.image_to_proto(latest))
        families.append(family)
    return families, next_token
