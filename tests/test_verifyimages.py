"""manage.py verifyimages: missing or corrupt stored data turns the images that use it ERROR."""

import os

import pytest
from django.core.management import call_command
from django.utils import timezone

from images.importer.store import BlobStore
from images.store import ids
from images.store.models import Image, ImageStatus


def stored(store: BlobStore, data: bytes) -> str:
    with store.writer() as writer:
        writer.write(data)
        return writer.commit()


def image_with(blob: str, status=ImageStatus.READY) -> Image:
    return Image.objects.create(
        id=ids.new_id(ids.IMAGE), folder_id="f", created_at=timezone.now(), blob=blob, status=status
    )


@pytest.mark.django_db
def test_verifyimages_marks_corrupt_and_missing_data_error_and_keeps_good_data(data_dir, capsys):
    store = BlobStore(data_dir)
    good, corrupt, missing = (
        stored(store, b"good" * 1000),
        stored(store, b"bad" * 1000),
        stored(store, b"gone"),
    )
    good_image, corrupt_image, copy_of_corrupt = image_with(good), image_with(corrupt), image_with(corrupt)
    missing_image = image_with(missing)
    path = store.path(corrupt)
    os.chmod(path, 0o644)
    path.write_bytes(b"bad" * 999 + b"BAD")
    store.path(missing).unlink()

    call_command("verifyimages")

    statuses = {image.id: image.status for image in Image.objects.all()}
    assert statuses[good_image.id] == ImageStatus.READY
    assert statuses[corrupt_image.id] == ImageStatus.ERROR
    assert statuses[copy_of_corrupt.id] == ImageStatus.ERROR
    assert statuses[missing_image.id] == ImageStatus.ERROR
    out = capsys.readouterr().out
    assert "3 image(s) marked ERROR" in out
    assert "checked 3 stored blob(s)" in out
