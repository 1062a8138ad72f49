"""Re-hashing stored image data: images whose data is missing or corrupt are marked ERROR."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from images.importer.store import BlobStore
from images.store.models import Image, ImageStatus

log = logging.getLogger(__name__)


@dataclass
class VerifyReport:
    blobs_checked: int = 0
    images_marked_error: list[str] = field(default_factory=list)


def images_verify(*, store: BlobStore | None = None) -> VerifyReport:
    """Hashes each stored blob once; every READY image referencing a bad one becomes ERROR."""
    store = store or BlobStore(settings.IMAGESERVICE_DATA_DIR)
    report = VerifyReport()
    blobs = Image.objects.exclude(blob="").values_list("blob", flat=True).distinct().order_by("blob")
    for blob in blobs.iterator():
        report.blobs_checked += 1
        if store.exists(blob) and store.verify(blob):
            continue
        log.warning("stored data %s is missing or corrupt", blob)
        ids = list(Image.objects.filter(blob=blob, status=ImageStatus.READY).values_list("id", flat=True))
        # Only READY images change: one being created or deleted is its operation's business.
        Image.objects.filter(id__in=ids, status=ImageStatus.READY).update(status=ImageStatus.ERROR)
        report.images_marked_error += ids
    return report
