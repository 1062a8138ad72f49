"""Update's request validation: values, mask paths, and values outside the mask."""

from __future__ import annotations

import pytest

from tests.backend.support import (
    unpack_image,
)
from tests.backend.validation.helpers import (
    KEY_63,
    MAX_DISK,
    MIN_DISK,
    NAME_63,
    VALUE_63,
    cases,
    expect_rejected,
    labels_of,
    update,
)

# --- Update ------------------------------------------------------------------------------------


VALID_UPDATE = [
    pytest.param({"name": NAME_63}, id="name-63"),
    pytest.param({"name": ""}, id="name-empty"),
    pytest.param({"description": "d" * 256}, id="description-256"),
    pytest.param({"labels": labels_of(64)}, id="labels-64"),
    pytest.param({"labels": {KEY_63: VALUE_63}}, id="label-key-value-63"),
    pytest.param({"min_disk_size": MIN_DISK}, id="min-disk-size-4MiB"),
    pytest.param({"min_disk_size": MAX_DISK}, id="min-disk-size-4TiB"),
]


def test_update_accepts_values_at_the_edge_of_each_rule(backend, image, subtests):
    client = backend.editor
    for case, values in cases(VALID_UPDATE):
        with subtests.test(msg=case):
            done = client.wait(update(client, image.id, paths=list(values), **values).id)
            updated = unpack_image(done)
            for name, value in values.items():
                stored = getattr(updated, name)
                assert (dict(stored) if name == "labels" else stored) == value


INVALID_UPDATE = [
    pytest.param({"name": "abc\n"}, "name", id="name-trailing-newline"),
    pytest.param({"name": "abc-"}, "name", id="name-trailing-hyphen"),
    pytest.param({"name": "abc_"}, "name", id="name-trailing-underscore"),
    pytest.param({"name": "a" + "b" * 63}, "name", id="name-64"),
    pytest.param({"description": "d" * 257}, "description", id="description-257"),
    pytest.param({"labels": labels_of(65)}, "labels", id="labels-65"),
    pytest.param({"labels": {"k" * 64: "v"}}, "labels", id="label-key-64"),
    pytest.param({"labels": {"k": "v" * 64}}, "labels", id="label-value-64"),
    pytest.param({"labels": {"K": "v"}}, "labels", id="label-key-uppercase"),
    pytest.param({"min_disk_size": MIN_DISK - 1}, "min_disk_size", id="min-disk-size-below-4MiB"),
    pytest.param({"min_disk_size": MAX_DISK + 1}, "min_disk_size", id="min-disk-size-above-4TiB"),
]


def test_update_rejects_values_beyond_each_rule(backend, image, subtests):
    client = backend.editor
    for case, values, field in cases(INVALID_UPDATE):
        for paths in (list(values), None):
            with subtests.test(msg=f"{case}-{'with' if paths else 'without'}-mask"):
                expect_rejected(
                    lambda key, v=values, p=paths: update(client, image.id, paths=p, key=key, **v), field
                )


def test_update_rejects_unknown_mask_paths(backend, image, subtests):
    client = backend.editor
    for paths in [["size"], ["labels.env"], ["folder_id"], ["name", "family"], ["Name"], [""], ["status"]]:
        with subtests.test(msg=repr(paths)):
            reason = expect_rejected(
                lambda key, p=paths: update(client, image.id, paths=p, key=key, name="renamed"), "update_mask"
            )
            assert "path" in reason


def test_update_ignores_invalid_values_outside_the_mask(backend, image):
    client = backend.editor
    done = client.wait(update(client, image.id, paths=["description"], description="ok", name="Bad\n").id)
    assert unpack_image(done).name == "base"
