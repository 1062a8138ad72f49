"""Every request validation rule of the contract through the real gRPC API, at both sides of each
boundary: INVALID_ARGUMENT in the contract's form with a BadRequest naming the field, nothing stored."""

from __future__ import annotations

import base64
import random
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from images.api.gen.imageservice.v1 import extension_pb2, extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import (
    MIB,
    assert_invalid,
    create_ready,
    raises_rpc,
    start_create,
    stored_state,
    unpack_image,
)

FOLDER = "folder-validation"
MIN_DISK = 4194304
MAX_DISK = 4398046511104
NAME_63 = "a" + "b" * 61 + "c"
FAMILY_63 = "f" + "-" * 61 + "9"
KEY_63 = "k" + "./@_-9" * 10 + "xy"
VALUE_63 = "-_./@09az" * 7


@pytest.fixture
def disk(backend):
    """A 1 MiB disk, small enough that every valid min_disk_size is at least its size."""
    return backend.register_source("disk", FOLDER, 1 * MIB, product_ids=["prod-1"])


@pytest.fixture
def image(backend, disk):
    return create_ready(backend.editor, backend, FOLDER, name="base", disk_id=disk, family="base-family")


def expect_rejected(call, field: str) -> str:
    """Runs `call(idempotency_key)`; asserts INVALID_ARGUMENT on `field` and that nothing was stored."""
    before = stored_state()
    with raises_rpc() as caught:
        call(str(uuid.uuid4()))
    reason = assert_invalid(caught, field)
    assert stored_state() == before
    return reason


def cases(params):
    """(id, *values) of each pytest.param: the cases of one test, run as subtests on one server."""
    return [(param.id, *param.values) for param in params]


def labels_of(count: int) -> dict[str, str]:
    return {f"key-{index}": f"value-{index}" for index in range(count)}


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


# --- Update ------------------------------------------------------------------------------------


def update(client, image_id: str, paths=None, key=None, **values):
    request = isv.UpdateImageRequest(image_id=image_id, **values)
    if paths is not None:
        request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=paths))
    return client.call(client.images.Update, request, idempotency_key=key)


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


# --- ids on every RPC that takes one -----------------------------------------------------------


def image_id_calls(client):
    return {
        "Get": lambda image_id, key: client.call(client.images.Get, isv.GetImageRequest(image_id=image_id)),
        "Update": lambda image_id, key: update(client, image_id, paths=["description"], key=key),
        "Delete": lambda image_id, key: client.call(
            client.images.Delete, isv.DeleteImageRequest(image_id=image_id), idempotency_key=key
        ),
        "ListOperations": lambda image_id, key: client.call(
            client.images.ListOperations, isv.ListImageOperationsRequest(image_id=image_id)
        ),
    }


def test_image_id_is_required_and_at_most_50_characters(backend, image, subtests):
    for method, call in image_id_calls(backend.editor).items():
        with subtests.test(msg=method):
            assert "required" in expect_rejected(lambda key, call=call: call("", key), "image_id")
            assert "50" in expect_rejected(lambda key, call=call: call("i" * 51, key), "image_id")
            before = stored_state()
            with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
                call("i" * 50, None)
            assert caught.message == f'Image "{"i" * 50}" not found'
            assert stored_state() == before


@pytest.mark.parametrize("method", ["Get", "Cancel"])
def test_operation_id_is_required(backend, method):
    client = backend.editor
    stub = getattr(client.operations, method)
    request_type = osv.GetOperationRequest if method == "Get" else osv.CancelOperationRequest
    assert "required" in expect_rejected(
        lambda key: client.call(stub, request_type(operation_id="")), "operation_id"
    )
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(stub, request_type(operation_id="o" * 20))


def test_folder_id_is_required_and_at_most_50_characters_on_reads(backend, image):
    client = backend.viewer
    calls = [
        lambda folder_id: client.call(client.images.List, isv.ListImagesRequest(folder_id=folder_id)),
        lambda folder_id: client.call(
            client.images.GetLatestByFamily,
            isv.GetImageLatestByFamilyRequest(folder_id=folder_id, family="base-family"),
        ),
    ]
    for call in calls:
        expect_rejected(lambda key, call=call: call(""), "folder_id")
        expect_rejected(lambda key, call=call: call("f" * 51), "folder_id")
    assert list(calls[0]("f" * 50).images) == []
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        calls[1]("f" * 50)


# --- GetLatestByFamily -------------------------------------------------------------------------


def test_get_latest_by_family_checks_the_family(backend, image, subtests):
    client = backend.viewer
    for family in ["", "ab", "ab_c", "abc-", "abc\n", "Abc", "f" + "a" * 62 + "9"]:
        with subtests.test(msg=repr(family)):
            request = isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family=family)
            expect_rejected(lambda key, r=request: client.call(client.images.GetLatestByFamily, r), "family")
    for family in ["abc", FAMILY_63]:
        with subtests.test(msg=repr(family)), raises_rpc(grpc.StatusCode.NOT_FOUND):
            request = isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family=family)
            client.call(client.images.GetLatestByFamily, request)


# --- List: page_size, page_token, filter, order_by ----------------------------------------------


def list_images(client, **fields):
    return client.call(
        client.images.List, isv.ListImagesRequest(folder_id=fields.pop("folder_id", FOLDER), **fields)
    )


@pytest.fixture
def six_images(backend, disk):
    client = backend.editor
    return [create_ready(client, backend, FOLDER, name=f"img-{index}", disk_id=disk) for index in range(6)]


def test_list_rejects_page_size_out_of_range(backend, six_images, subtests):
    client = backend.viewer
    for page_size in [-1, 1001, -(2**63), 2**63 - 1]:
        with subtests.test(msg=str(page_size)):
            expect_rejected(lambda key, size=page_size: list_images(client, page_size=size), "page_size")
            request = isv.ListImageOperationsRequest(image_id=six_images[0].id, page_size=page_size)
            expect_rejected(lambda key, r=request: client.call(client.images.ListOperations, r), "page_size")


def test_list_page_size_zero_means_100_and_1000_is_allowed(backend, settings, disk):
    from images.store.models import Image

    image = create_ready(backend.editor, backend, FOLDER, disk_id=disk)
    row = Image.objects.get(id=image.id)
    # Copies of a READY image, written directly: 1001 images through the API would take too long here.
    copies = []
    for index in range(1000):
        row.pk = f"fd8copy{index:013d}"
        row.name = ""
        copies.append(Image(**{f.attname: getattr(row, f.attname) for f in Image._meta.concrete_fields}))
    Image.objects.bulk_create(copies)
    client = backend.viewer
    default_page = list_images(client, page_size=0)
    assert len(default_page.images) == 100 and default_page.next_page_token
    full_page = list_images(client, page_size=1000)
    assert len(full_page.images) == 1000 and full_page.next_page_token
    assert len(list_images(client, page_size=1).images) == 1


def test_page_token_of_100_characters_is_checked_and_101_rejected_by_length(backend, six_images):
    client = backend.viewer
    assert expect_rejected(lambda key: list_images(client, page_token="A" * 100), "page_token") == (
        "invalid page token"
    )
    assert "100" in expect_rejected(lambda key: list_images(client, page_token="A" * 101), "page_token")


def first_token(client, **fields) -> str:
    page = list_images(client, page_size=2, **fields)
    assert page.next_page_token
    return page.next_page_token


def test_the_longest_real_page_token_fits_and_works(backend, disk):
    client = backend.editor
    names = ["z" + "_" * 61 + "z", "z" + "-" * 61 + "y", "z" + "_" * 61 + "x"]
    for name in names:
        create_ready(client, backend, "f" * 50, name=name, disk_id=disk)
    page = list_images(client, folder_id="f" * 50, page_size=1, order_by="name desc", filter=" " * 1000)
    assert len(page.next_page_token) <= 100
    second = list_images(
        client, folder_id="f" * 50, page_size=1, order_by="name desc", filter=" " * 1000,
        page_token=page.next_page_token,
    )  # fmt: skip
    assert [image.name for image in second.images] == [sorted(names, reverse=True)[1]]


def test_page_token_from_another_query_is_rejected(backend, six_images, disk):
    client = backend.viewer
    create_ready(backend.editor, backend, "other-folder", name="x1", disk_id=disk)
    create_ready(backend.editor, backend, "other-folder", name="x2", disk_id=disk)
    create_ready(backend.editor, backend, "other-folder", name="x3", disk_id=disk)
    token = first_token(client)
    other_queries = [
        {"folder_id": "other-folder"},
        {"filter": 'name != "zzz"'},
        {"order_by": "id desc"},
        {"order_by": "name"},
    ]
    for fields in other_queries:
        expect_rejected(
            lambda key, fields=fields: list_images(client, page_token=token, **fields), "page_token"
        )
    operations_token = client.call(
        client.images.ListOperations, isv.ListImageOperationsRequest(image_id=six_images[0].id, page_size=1)
    )
    assert operations_token.next_page_token == ""  # one operation: a token needs a second one
    # A List token is not a ListOperations token.
    expect_rejected(
        lambda key: client.call(
            client.images.ListOperations,
            isv.ListImageOperationsRequest(image_id=six_images[0].id, page_token=token),
        ),
        "page_token",
    )
    # The page size may change between pages.
    assert len(list_images(client, page_token=token, page_size=3).images) == 3


def test_filtered_and_ordered_tokens_work_for_their_own_query(backend, six_images):
    client = backend.viewer
    fields = {"filter": 'name != "img-0"', "order_by": "name desc"}
    token = first_token(client, **fields)
    rest = list_images(client, page_token=token, page_size=10, **fields)
    assert [image.name for image in rest.images] == ["img-3", "img-2", "img-1"]


def test_forged_truncated_and_altered_page_tokens_are_rejected(backend, six_images):
    client = backend.viewer
    token = first_token(client)
    rng = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bad = [
        token[:-1],
        token[1:],
        token[: len(token) // 2],
        token + "A",
        token + "=",
        token.upper(),
        base64.urlsafe_b64encode(b"\x01" + b"\x00" * 20).decode().rstrip("="),
        "not a token",
        "%%%",
        "A",
        "====",
        "\u00e9" * 10,
        base64.urlsafe_b64encode(b'{"id": "fd8"}').decode(),
    ]
    for index in range(len(token)):
        replacement = rng.choice(alphabet.replace(token[index], ""))
        bad.append(token[:index] + replacement + token[index + 1 :])
    before = stored_state()
    for forged in bad:
        with raises_rpc() as caught:
            list_images(client, page_token=forged)
        assert assert_invalid(caught, "page_token")
    assert stored_state() == before


FILTER_1000 = 'name = "img-1"' + " " * (1000 - len('name = "img-1"'))


def test_filter_of_1000_characters_is_accepted_and_1001_rejected(backend, six_images):
    client = backend.viewer
    assert len(FILTER_1000) == 1000
    assert [image.name for image in list_images(client, filter=FILTER_1000).images] == ["img-1"]
    assert "1000" in expect_rejected(lambda key: list_images(client, filter=FILTER_1000 + " "), "filter")


MALFORMED_FILTERS = [
    "name",
    "name =",
    "name = web",
    'name == "a"',
    'name = "a" OR id = "b"',
    'name = "a" AND',
    'AND name = "a"',
    'name = "a" name = "b"',
    'NOT name = "a"',
    'name IN "a"',
    "name IN ()",
    'name IN ("a"',
    'name IN ("a",)',
    'name IN ("a" "b")',
    'name NOT ("a")',
    'name ! "a"',
    'name < "a"',
    '(name = "a")',
    'name = "unterminated',
    "name = 'unterminated",
    'name = "bad \\n escape"',
    'name = "a";',
    'name = "a" -- comment',
    'name = "a\x00"',
    'size = "1"',
    'createdAt = "x"',
    'labels = "x"',
    'labels. = "x"',
    'labels.Env = "x"',
    'labels.1x = "x"',
    f'labels.{"k" * 64} = "x"',
    'status = "BROKEN"',
    'status = "ready"',
    'status IN ("READY", "NOPE")',
    'name = "a" AND AND id = "b"',
    "'",
    '"',
    "=",
    "\\",
]


def test_malformed_filters_are_invalid_argument_saying_what_is_wrong(backend, six_images, subtests):
    client = backend.viewer
    for text in MALFORMED_FILTERS:
        with subtests.test(msg=repr(text)):
            reason = expect_rejected(lambda key, t=text: list_images(client, filter=t), "filter")
            assert len(reason) > 10


def test_order_by_of_100_characters_is_accepted_and_101_rejected(backend, six_images):
    client = backend.viewer
    order_by = "name desc" + " " * 91
    assert len(order_by) == 100
    names = [image.name for image in list_images(client, order_by=order_by).images]
    assert names == sorted(names, reverse=True)
    assert "100" in expect_rejected(lambda key: list_images(client, order_by=order_by + " "), "order_by")


def test_malformed_order_by_is_invalid_argument(backend, six_images, subtests):
    client = backend.viewer
    malformed = [
        "size",
        "created_at",
        "createdat",
        "name up",
        "name asc id",
        "name,id",
        "-name",
        "name desc,",
    ]
    for order_by in [*malformed, "labels.env", "id asc desc"]:
        with subtests.test(msg=repr(order_by)):
            assert expect_rejected(lambda key, o=order_by: list_images(client, order_by=o), "order_by")


# --- extension RPCs ------------------------------------------------------------------------------


def test_extension_rpcs_validate_their_input(backend, image):
    client = backend.viewer
    stub = extension_pb2_grpc.ImageExtensionServiceStub(client.channel)
    expect_rejected(
        lambda key: client.call(stub.ListFamilies, extension_pb2.ListFamiliesRequest()), "folder_id"
    )
    expect_rejected(
        lambda key: client.call(
            stub.ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=FOLDER, page_size=-1)
        ),
        "page_size",
    )
    expect_rejected(
        lambda key: client.call(
            stub.ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=FOLDER, page_token="forged")
        ),
        "page_token",
    )
    too_many = extension_pb2.BatchGetOperationsRequest(operation_ids=[f"op{index}" for index in range(101)])
    expect_rejected(lambda key: client.call(stub.BatchGetOperations, too_many), "operation_ids")


# --- oversize messages ---------------------------------------------------------------------------


def test_messages_over_4_mib_are_resource_exhausted_and_store_nothing(backend, disk, image):
    client = backend.editor
    before = stored_state()
    huge = "x" * (4 * MIB + 1)
    calls = [
        lambda: client.call(
            client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, description=huge)
        ),
        lambda: update(client, image.id, paths=["description"], description=huge),
        lambda: list_images(client, filter=huge),
        lambda: client.call(client.images.Get, isv.GetImageRequest(image_id=huge)),
    ]
    for call in calls:
        with raises_rpc(grpc.StatusCode.RESOURCE_EXHAUSTED):
            call()
    assert stored_state() == before
    # Just under the limit the message is read, and the rule on the field answers.
    just_under = "x" * (4 * MIB - 1024)
    expect_rejected(
        lambda key: client.call(
            client.images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, description=just_under),
            idempotency_key=key,
        ),
        "description",
    )


# --- no bad input is INTERNAL --------------------------------------------------------------------

FILTER_PIECES = [
    "name", "id", "family", "status", "labels.env", "labels.", "labels.A", "labels.a.b", "AND", "and", "IN",
    "NOT", "not in", "=", "!=", "!", "(", ")", ",", '"', "'", "\\", '"READY"', "'x'", '"a\\"b"', " ", "\t",
    "é", "\U0001f600", "#", ";", "--", "OR", "size", "$", "%", "\n", '"img-1"', "'img-%'", "*",
]  # fmt: skip


def fuzz_codes(client, requests) -> dict:
    """Sends each List request; counts the codes; fails on anything but OK and INVALID_ARGUMENT."""
    codes = {}
    for fields in requests:
        try:
            list_images(client, **fields)
            code = grpc.StatusCode.OK
        except grpc.RpcError as error:
            code = error.code()
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (fields, error.details())
            assert error.details().startswith("Request validation error: ")
        codes[code] = codes.get(code, 0) + 1
    return codes


def test_random_filters_order_by_and_tokens_are_answered_ok_or_invalid_argument(backend, six_images):
    client = backend.viewer
    rng = random.Random(2024)
    real_token = first_token(client)
    before = stored_state()

    def random_filter():
        if rng.random() < 0.25:
            return "".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(0, 30)))
        return " ".join(rng.choice(FILTER_PIECES) for _ in range(rng.randint(1, 10)))

    filters = [{"filter": random_filter()} for _ in range(120)]
    filters += [{"filter": 'name = "img-1" AND ' + random_filter()} for _ in range(30)]
    filters += [{"filter": f'name IN ("img-1", "{rng.choice(FILTER_PIECES)}")'} for _ in range(10)]
    orders = [{"order_by": rng.choice(["name", "createdAt", "id", "Name", "size"]) + rng.choice(
        ["", " asc", " DESC", " desc x", ",", " asc desc", "\n"]
    )} for _ in range(40)]  # fmt: skip
    tokens = [
        {"page_token": real_token[: rng.randint(0, len(real_token))], "page_size": 2} for _ in range(20)
    ] + [
        {"page_token": "".join(rng.choice("AZaz09-_=+/.") for _ in range(rng.randint(1, 110)))}
        for _ in range(40)
    ]
    sizes = [{"page_size": rng.randint(-(2**40), 2**40)} for _ in range(10)] + [{"page_size": 3}]
    for requests in (filters, orders, tokens, sizes):
        codes = fuzz_codes(client, requests)
        assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}, codes
    assert stored_state() == before


# --- NUL characters: PostgreSQL cannot store them, so they must never reach the database -----------


def test_nul_characters_in_any_string_are_invalid_argument(backend, disk, image, subtests):
    client = backend.editor
    stub = extension_pb2_grpc.ImageExtensionServiceStub(client.channel)
    nul = "a\x00b"
    calls = {
        "image_id": [
            lambda: client.call(client.images.Get, isv.GetImageRequest(image_id=nul)),
            lambda: update(client, nul, paths=["description"]),
            lambda: client.call(client.images.Delete, isv.DeleteImageRequest(image_id=nul)),
            lambda: client.call(client.images.ListOperations, isv.ListImageOperationsRequest(image_id=nul)),
            lambda: client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, image_id=nul)),
        ],
        "folder_id": [
            lambda: list_images(client, folder_id=nul),
            lambda: client.call(
                client.images.GetLatestByFamily,
                isv.GetImageLatestByFamilyRequest(folder_id=nul, family="abc"),
            ),
            lambda: client.call(client.images.Create, isv.CreateImageRequest(folder_id=nul, disk_id=disk)),
            lambda: client.call(stub.ListFamilies, extension_pb2.ListFamiliesRequest(folder_id=nul)),
        ],
        "disk_id": [
            lambda: client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=nul))
        ],
        "snapshot_id": [
            lambda: client.call(
                client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, snapshot_id=nul)
            )
        ],
        "description": [
            lambda: client.call(
                client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, description=nul)
            ),
            lambda: update(client, image.id, paths=["description"], description=nul),
        ],
        "product_ids": [
            lambda: client.call(
                client.images.Create,
                isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk, product_ids=[nul]),
            )
        ],
        "name": [lambda: update(client, image.id, paths=["name"], name="ab\x00c")],
        "labels": [
            lambda: update(client, image.id, paths=["labels"], labels={"k": nul}),
            lambda: update(client, image.id, paths=["labels"], labels={nul: "v"}),
        ],
        "family": [
            lambda: client.call(
                client.images.GetLatestByFamily,
                isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family="ab\x00c"),
            )
        ],
        "filter": [
            lambda: list_images(client, filter=f'name = "{nul}"'),
            lambda: list_images(client, filter=nul),
        ],
        "operation_id": [
            lambda: client.call(client.operations.Get, osv.GetOperationRequest(operation_id=nul)),
            lambda: client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=nul)),
        ],
        "operation_ids": [
            lambda: client.call(
                stub.BatchGetOperations, extension_pb2.BatchGetOperationsRequest(operation_ids=[nul])
            )
        ],
    }
    for field, field_calls in calls.items():
        for index, call in enumerate(field_calls):
            with subtests.test(msg=f"{field} #{index}"):
                expect_rejected(lambda key, call=call: call(), field)


FUZZ_CHARS = "abcxyz019-_./@ AZ\"'\\:;é\u00df\U0001f600\x00\x01\n\t\u200b"


def test_random_create_and_update_requests_are_never_internal(backend, disk, image):
    client = backend.editor
    rng = random.Random(31337)

    def text(max_length=70):
        length = rng.choice([0, 1, 2, 3, 50, 51, 63, 64, rng.randint(0, max_length)])
        return "".join(rng.choice(FUZZ_CHARS) for _ in range(length))

    def sometimes(usual, odd):
        return odd if rng.random() < 0.2 else usual

    allowed = {
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
    }
    seen = set()
    for _ in range(150):
        request = isv.CreateImageRequest(
            folder_id=sometimes(FOLDER, text()),
            name=sometimes(f"n{rng.randrange(10**9)}", text()),
            description=sometimes("fine", text(300)),
            family=sometimes("good-family", text()),
            labels=sometimes({"k": "v"}, {text(): text() for _ in range(rng.choice([0, 1, 2]))}),
            product_ids=sometimes([], [text() for _ in range(rng.choice([0, 1, 2]))]),
            min_disk_size=sometimes(
                0, rng.choice([-1, MIN_DISK - 1, MIN_DISK, MAX_DISK, MAX_DISK + 1, 2**63 - 1])
            ),
        )
        source = rng.choice(["disk", "disk", "random-disk", "snapshot", "image", "uri", None])
        if source == "disk":
            request.disk_id = disk
        elif source == "image":
            request.image_id = rng.choice([image.id, text()])
        elif source == "uri":
            request.uri = rng.choice(["", text(), "http://" + text(), "https://example.invalid/" + text()])
        elif source is not None:
            setattr(request, source.replace("random-", "") + "_id", text())
        try:
            operation = client.call(client.images.Create, request)
            client.wait(operation.id)
            seen.add(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            assert error.code() in allowed, (request, error.code(), error.details())
            seen.add(error.code())
        values = {
            "name": sometimes("base", text()),
            "description": sometimes("fine", text(300)),
            "labels": sometimes({}, {text(): text()}),
            "min_disk_size": sometimes(0, rng.choice([MIN_DISK - 1, MIN_DISK, MAX_DISK + 1])),
        }
        paths = rng.choice([None, [], ["name"], ["labels", "description"], [text()], ["min_disk_size"]])
        try:
            client.wait(update(client, image.id, paths=paths, **values).id)
        except grpc.RpcError as error:
            assert error.code() in allowed, (values, paths, error.code(), error.details())
    assert {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT} <= seen
