"""What a delete does to families: which images stop being their family's latest, which take over,
and whether the person must type a confirmation (many images, or any family's latest)."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.filters import quote
from dashboard.presenters import ImageView
from images.rules import RULES

# Deleting more than this many images at once asks for a typed confirmation.
TYPED_CONFIRM_OVER = 10


@dataclass(frozen=True)
class FamilyImpact:
    family: str
    was_latest: ImageView  # stops being the family's latest
    becomes_latest: ImageView | None  # None: the family is left without a READY image


def family_impact(backend, folder_id: str, images: list[ImageView]) -> list[FamilyImpact]:
    """One GetLatestByFamily per family touched, and one List for each family whose latest goes."""
    deleting = {image.id for image in images}
    by_family: dict[str, int] = {}
    for image in images:
        if image.family:
            by_family[image.family] = by_family.get(image.family, 0) + 1
    impacts = []
    for family, count in sorted(by_family.items()):
        latest = backend.latest_by_family(folder_id, family)
        if latest is None or latest.id not in deleting:
            continue
        # The newest count+1 READY images hold at least one that stays, if any does.
        candidates = backend.list_images(
            folder_id,
            page_size=count + 1,
            filter=f'family = {quote(family)} AND status = "READY"',
            order_by="createdAt desc",
        )
        following = next((c for c in candidates.images if c.id not in deleting), None)
        impacts.append(
            FamilyImpact(
                family,
                ImageView.from_proto(latest),
                ImageView.from_proto(following) if following else None,
            )
        )
    return impacts


def needs_typed_confirmation(count: int, impacts: list[FamilyImpact]) -> bool:
    return count > TYPED_CONFIRM_OVER or bool(impacts)


def typed_confirmation_ok(typed: str, *, folder_id: str, count: int) -> bool:
    """The person typed the folder's name or the number of images being deleted."""
    return typed.strip() in (folder_id, str(count))


def images_by_id(backend, folder_id: str, ids: list[str]) -> dict[str, ImageView]:
    """The folder's images among `ids`, in as few List calls as the filter's length allows."""
    found: dict[str, ImageView] = {}
    limit = RULES["filter"].length_limit
    batch: list[str] = []
    length = len("id IN ()")

    def flush() -> None:
        if not batch:
            return
        response = backend.list_images(
            folder_id, page_size=len(batch), filter=f"id IN ({', '.join(quote(i) for i in batch)})"
        )
        found.update({image.id: ImageView.from_proto(image) for image in response.images})
        batch.clear()

    for image_id in ids:
        if length + len(quote(image_id)) + 2 > limit:
            flush()
            length = len("id IN ()")
        batch.append(image_id)
        length += len(quote(image_id)) + 2
    flush()
    return found
