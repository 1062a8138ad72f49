"""No bad input is INTERNAL: random filters, orders, tokens, creates and updates."""

from __future__ import annotations

import random

import grpc

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.support import (
    stored_state,
)
from tests.backend.validation.helpers import (
    FOLDER,
    MAX_DISK,
    MIN_DISK,
    first_token,
    list_images,
    update,
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
