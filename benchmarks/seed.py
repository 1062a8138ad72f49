"""Bulk seeding for benchmarks: N images in one folder over F families, straight into the database."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from images.store import ids
from images.store.models import Image, ImageStatus, OsType

BATCH = 5000


def seed_images(folder_id: str, *, count: int, families: int) -> list[str]:
    """Inserts `count` READY images (plus a few in other states) and returns their ids."""
    rng = random.Random(42)
    now = timezone.now()
    created_ids: list[str] = []
    batch: list[Image] = []
    for index in range(count):
        family = f"family-{index % families:04d}"
        version = index // families
        image = Image(
            id=ids.new_id(ids.IMAGE),
            folder_id=folder_id,
            created_at=now - timedelta(seconds=count - index, microseconds=rng.randrange(1_000_000)),
            name=f"{family}-v{version:04d}",
            description=f"benchmark image {index}",
            # `hotfix` on one image in 10,000: the rare key of a has-key filter.
            labels={
                "env": rng.choice(["prod", "stage", "dev"]),
                "build": str(version),
                **({"hotfix": "yes"} if index % 10000 == 7 else {}),
            },
            family=family,
            storage_size=1 << 30,
            min_disk_size=4 << 30,
            product_ids=[f"product-{index % 7}"],
            status=ImageStatus.READY if index % 97 else ImageStatus.ERROR,
            os_type=OsType.LINUX,
            size=4 << 30,
        )
        batch.append(image)
        created_ids.append(image.id)
        if len(batch) == BATCH:
            _flush(batch)
            batch = []
    if batch:
        _flush(batch)
    return created_ids


def _flush(batch: list[Image]) -> None:
    with transaction.atomic():
        Image.objects.bulk_create(batch)
