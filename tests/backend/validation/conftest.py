"""Fixtures of the request validation tests: a small disk, an image, six images to page through."""

from __future__ import annotations

import pytest

from tests.backend.support import (
    MIB,
    create_ready,
)
from tests.backend.validation.helpers import (
    FOLDER,
)


@pytest.fixture
def disk(backend):
    """A 1 MiB disk, small enough that every valid min_disk_size is at least its size."""
    return backend.register_source("disk", FOLDER, 1 * MIB, product_ids=["prod-1"])


@pytest.fixture
def image(backend, disk):
    return create_ready(backend.editor, backend, FOLDER, name="base", disk_id=disk, family="base-family")


@pytest.fixture
def six_images(backend, disk):
    client = backend.editor
    return [create_ready(client, backend, FOLDER, name=f"img-{index}", disk_id=disk) for index in range(6)]
