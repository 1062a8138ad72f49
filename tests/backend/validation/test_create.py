"""Create's request validation, at both sides of each rule of the contract."""

from __future__ import annotations

import grpc
import pytest

from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.support import (
    MIB,
    assert_invalid,
    raises_rpc,
    start_create,
    stored_state,
    unpack_image,
)
from tests.backend.validation.helpers import (
    FAMILY_63,
    FOLDER,
    KEY_63,
    MAX_DISK,
    MIN_DISK,
    NAME_63,
    VALUE_63,
    cases,
    expect_rejected,
    labels_of,
)

# --- Create ------------------------------------------------------------------------------------

VALID_CREATE = [
    pytest.param({"name": ""}, id="name-empty"),
    pytest.param({"name": "a"}, id="name-1-char"),
    pytest.param({"name": NAME_63}, id="name-63-chars"),
    pytest.param({"name": "a-b_c-9"}, id="name-inner-hyphen-underscore"),
    pytest.param({"description": "d" * 256}, id="description-256"),
    pytest.param({"description": "Any text: Ünïcode, \n newlines."}, id="description-free-text"),
    pytest.param({"labels": labels_of(64)}, id="labels-64-entries"),
    pytest.param({"labels": {KEY_63: VALUE_63}}, id="label-key-and-value-63"),
    pytest.param({"labels": {"a": ""}}, id="label-value-empty"),
    pytest.param({"labels": {"k.a/b@c_d-1": "-_./@09az"}}, id="label-every-allowed-char"),
    pytest.param({"family": ""}, id="family-empty"),
    pytest.param({"family": "abc"}, id="family-3-chars"),
    pytest.param({"family": FAMILY_63}, id="family-63-chars"),
    pytest.param({"min_disk_size": 0}, id="min-disk-size-0"),
    pytest.param({"min_disk_size": MIN_DISK}, id="min-disk-size-4MiB"),
    pytest.param({"min_disk_size": MAX_DISK}, id="min-disk-size-4TiB"),
    pytest.param({"product_ids": ["p" * 50, "q"]}, id="product-id-50"),
    pytest.param({"folder_id": "f" * 50}, id="folder-id-50"),
    pytest.param({"pooled": True}, id="pooled"),
]


def test_create_accepts_values_at_the_edge_of_each_rule(backend, subtests):
    for case, fields in cases(VALID_CREATE):
        with subtests.test(msg=case):
            check_valid_create(backend, dict(fields))


def check_valid_create(backend, fields):
    client = backend.editor
    folder_id = fields.pop("folder_id", FOLDER)
    disk_id = backend.register_source("disk", folder_id, 1 * MIB)
    done = client.wait(start_create(client, backend, folder_id, disk_id=disk_id, **fields).id)
    image = unpack_image(done)
    assert image.status == image_pb2.Image.READY
    assert image.folder_id == folder_id
    for name, value in fields.items():
        stored = getattr(image, name)
        if name == "labels":
            stored = dict(stored)
        elif name == "product_ids":
            stored = list(stored)
        elif name == "min_disk_size" and value == 0:
            value = 1 * MIB  # 0 means "not given": the disk's size
        assert stored == value


INVALID_CREATE = [
    pytest.param({"name": "a" + "b" * 62 + "c"}, "name", id="name-64-chars"),
    pytest.param({"name": "abc\n"}, "name", id="name-trailing-newline"),
    pytest.param({"name": "abc-"}, "name", id="name-trailing-hyphen"),
    pytest.param({"name": "abc_"}, "name", id="name-trailing-underscore"),
    pytest.param({"name": "1abc"}, "name", id="name-starts-with-digit"),
    pytest.param({"name": "-abc"}, "name", id="name-starts-with-hyphen"),
    pytest.param({"name": "Abc"}, "name", id="name-uppercase"),
    pytest.param({"name": "a b"}, "name", id="name-space"),
    pytest.param({"name": "ab.c"}, "name", id="name-dot"),
    pytest.param({"name": "\nabc"}, "name", id="name-leading-newline"),
    pytest.param({"description": "d" * 257}, "description", id="description-257"),
    pytest.param({"labels": labels_of(65)}, "labels", id="labels-65-entries"),
    pytest.param({"labels": {"k" * 64: "v"}}, "labels", id="label-key-64"),
    pytest.param({"labels": {"": "v"}}, "labels", id="label-key-empty"),
    pytest.param({"labels": {"Env": "v"}}, "labels", id="label-key-uppercase"),
    pytest.param({"labels": {"1env": "v"}}, "labels", id="label-key-starts-with-digit"),
    pytest.param({"labels": {"-env": "v"}}, "labels", id="label-key-starts-with-hyphen"),
    pytest.param({"labels": {"env\n": "v"}}, "labels", id="label-key-trailing-newline"),
    pytest.param({"labels": {"en v": "v"}}, "labels", id="label-key-space"),
    pytest.param({"labels": {"env": "v" * 64}}, "labels", id="label-value-64"),
    pytest.param({"labels": {"env": "Prod"}}, "labels", id="label-value-uppercase"),
    pytest.param({"labels": {"env": "prod\n"}}, "labels", id="label-value-trailing-newline"),
    pytest.param({"labels": {"env": "a b"}}, "labels", id="label-value-space"),
    pytest.param({"labels": {"env": "a:b"}}, "labels", id="label-value-colon"),
    pytest.param({"family": "ab"}, "family", id="family-2-chars"),
    pytest.param({"family": "f" + "a" * 62 + "9"}, "family", id="family-64-chars"),
    pytest.param({"family": "ab_c"}, "family", id="family-underscore"),
    pytest.param({"family": "abc-"}, "family", id="family-trailing-hyphen"),
    pytest.param({"family": "1abc"}, "family", id="family-starts-with-digit"),
    pytest.param({"family": "abc\n"}, "family", id="family-trailing-newline"),
    pytest.param({"family": "Abc"}, "family", id="family-uppercase"),
    pytest.param({"min_disk_size": MIN_DISK - 1}, "min_disk_size", id="min-disk-size-below-4MiB"),
    pytest.param({"min_disk_size": MAX_DISK + 1}, "min_disk_size", id="min-disk-size-above-4TiB"),
    pytest.param({"min_disk_size": -1}, "min_disk_size", id="min-disk-size-negative"),
    pytest.param({"product_ids": ["p" * 51]}, "product_ids", id="product-id-51"),
    pytest.param({"product_ids": ["ok", "p" * 51]}, "product_ids", id="second-product-id-51"),
    pytest.param({"folder_id": ""}, "folder_id", id="folder-id-missing"),
    pytest.param({"folder_id": "f" * 51}, "folder_id", id="folder-id-51"),
    pytest.param({"disk_id": "d" * 51}, "disk_id", id="disk-id-51"),
    pytest.param({"snapshot_id": "s" * 51}, "snapshot_id", id="snapshot-id-51"),
    pytest.param({"image_id": "i" * 51}, "image_id", id="source-image-id-51"),
    pytest.param({"disk_id": None}, "source", id="source-missing"),
    pytest.param({"disk_id": ""}, "source", id="source-disk-id-empty"),
    pytest.param({"os": image_pb2.Os(type=7)}, "os.type", id="os-type-unknown"),
]


def test_create_rejects_values_beyond_each_rule(backend, disk, image, subtests):
    for case, fields, field in cases(INVALID_CREATE):
        with subtests.test(msg=case):
            check_invalid_create(backend.editor, disk, fields, field)


def check_invalid_create(client, disk, fields, field):
    request = isv.CreateImageRequest(folder_id=FOLDER, name="fresh", disk_id=disk)
    for name, value in fields.items():
        if name == "disk_id" and value is None:
            request.ClearField("disk_id")
        elif name in ("labels",):
            request.labels.clear()
            request.labels.update(value)
        elif name == "product_ids":
            request.product_ids[:] = value
        elif name == "os":
            request.os.CopyFrom(value)
        else:
            setattr(request, name, value)
    reason = expect_rejected(
        lambda key: client.call(client.images.Create, request, idempotency_key=key), field
    )
    assert reason


def test_create_with_a_50_character_missing_disk_passes_validation(backend, image):
    client = backend.editor
    before = stored_state()
    for source in ("disk_id", "snapshot_id", "image_id"):
        with raises_rpc(grpc.StatusCode.FAILED_PRECONDITION):
            client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, **{source: "x" * 50}))
    assert stored_state() == before


def test_every_bad_field_gets_its_own_violation(backend, disk):
    client = backend.editor
    request = isv.CreateImageRequest(
        folder_id=FOLDER, name="Bad", description="d" * 300, family="x_y", disk_id=disk, min_disk_size=1
    )
    before = stored_state()
    with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT) as caught:
        client.call(client.images.Create, request)
    fields = [field for field, _ in caught.violations()]
    assert sorted(fields) == ["description", "family", "min_disk_size", "name"]
    assert caught.message.startswith("Request validation error: ")
    for field in fields:
        assert f"{field}: " in caught.message
    assert all(description for _, description in caught.violations())
    assert stored_state() == before


def test_labels_report_the_offending_key(backend, disk):
    client = backend.editor
    request = isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, labels={"good": "x", "BAD": "y"})
    with raises_rpc() as caught:
        client.call(client.images.Create, request)
    assert '"BAD"' in assert_invalid(caught, "labels")
