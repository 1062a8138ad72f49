"""List's filter and order_by: lengths and malformed input, each said clearly."""

from __future__ import annotations

from tests.backend.validation.helpers import (
    expect_rejected,
    list_images,
)

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
