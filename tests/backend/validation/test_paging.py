"""List's page_size and page_token: ranges, lengths, scope, forgery."""

from __future__ import annotations

import base64
import random

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.support import (
    assert_invalid,
    create_ready,
    raises_rpc,
    stored_state,
)
from tests.backend.validation.helpers import (
    FOLDER,
    expect_rejected,
    first_token,
    list_images,
)

# --- List: page_size, page_token, filter, order_by ----------------------------------------------


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
