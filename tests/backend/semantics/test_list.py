"""List: every filter field and operator, and every order both ways with stable pages."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.backend.semantics.helpers import (
    CREATING,
    DELETING,
    FOLDER,
    READY,
    delete,
    set_created_at,
)
from tests.backend.support import (
    image_id_of,
    list_all,
    run_pending,
    start_create,
)


@pytest.fixture
def catalog(paused_backend):
    """Images in every status a client can see, with names, families and labels to filter on."""
    backend = paused_backend
    client = backend.editor
    specs = [
        ("alpha", "web", {"env": "prod", "team": "a"}),
        ("beta", "web", {"env": "test"}),
        ("gamma", "dbs", {"env": "prod"}),
        ("delta", "", {"team": "b"}),
        ("", "dbs", {}),
        ("", "", {"env": "dev", "k.x/y@z": "v-1"}),
    ]
    for name, family, labels in specs:
        start_create(client, backend, FOLDER, name=name, family=family, labels=labels)
    run_pending(backend)
    images = {image.id: image for image in list_all(client, FOLDER)}
    by_name = {image.name: image for image in images.values() if image.name}
    delete(client, by_name["delta"].id)  # DELETING
    creating = start_create(client, backend, FOLDER, name="epsilon", family="web", labels={"env": "prod"})
    start_create(client, backend, "other-folder", name="alpha", family="web", labels={"env": "prod"})
    images = {image.id: image for image in list_all(client, FOLDER)}
    assert images[image_id_of(creating)].status == CREATING
    return images


def expected_ids(images, predicate) -> set[str]:
    return {image_id for image_id, image in images.items() if predicate(image)}


FILTER_CASES = [
    ('name = "alpha"', lambda i: i.name == "alpha"),
    ("name = 'alpha'", lambda i: i.name == "alpha"),
    ('name != "alpha"', lambda i: i.name != "alpha"),
    ('name = ""', lambda i: i.name == ""),
    ('name IN ("alpha", "gamma", "nope")', lambda i: i.name in ("alpha", "gamma")),
    ('name in ("alpha")', lambda i: i.name == "alpha"),
    ('name NOT IN ("alpha", "beta")', lambda i: i.name not in ("alpha", "beta")),
    ('name not in ("")', lambda i: i.name != ""),
    ('family = "web"', lambda i: i.family == "web"),
    ('family != "web"', lambda i: i.family != "web"),
    ('family IN ("web", "dbs")', lambda i: i.family in ("web", "dbs")),
    ('family NOT IN ("web", "dbs")', lambda i: i.family not in ("web", "dbs")),
    ('status = "READY"', lambda i: i.status == READY),
    ('status = "CREATING"', lambda i: i.status == CREATING),
    ('status = "DELETING"', lambda i: i.status == DELETING),
    ('status = "ERROR"', lambda i: False),
    ('status != "READY"', lambda i: i.status != READY),
    ('status IN ("CREATING", "DELETING")', lambda i: i.status in (CREATING, DELETING)),
    ('status NOT IN ("CREATING", "DELETING")', lambda i: i.status not in (CREATING, DELETING)),
    ('labels.env = "prod"', lambda i: i.labels.get("env") == "prod"),
    ('labels.env != "prod"', lambda i: i.labels.get("env") != "prod"),
    ('labels.env IN ("prod", "dev")', lambda i: i.labels.get("env") in ("prod", "dev")),
    ('labels.env NOT IN ("prod", "dev")', lambda i: i.labels.get("env") not in ("prod", "dev")),
    ('labels.team = ""', lambda i: False),
    ('labels.k.x/y@z = "v-1"', lambda i: i.labels.get("k.x/y@z") == "v-1"),
    ('labels.nothing != "x"', lambda i: True),
    (
        'family = "web" AND labels.env = "prod" and status = "READY"',
        lambda i: i.family == "web" and i.labels.get("env") == "prod" and i.status == READY,
    ),
    ('name != "alpha" AND name != "beta"', lambda i: i.name not in ("alpha", "beta")),
    ("name = \"a\\\"b\" AND name = 'x\\'y\\\\'", lambda i: False),
    ('  name="alpha"  ', lambda i: i.name == "alpha"),
]


def test_list_filter_supports_every_field_and_operator(catalog, paused_backend, subtests):
    client = paused_backend.viewer
    for text, predicate in FILTER_CASES:
        with subtests.test(msg=text):
            listed = list_all(client, FOLDER, filter=text, page_size=2)
            assert len(listed) == len({image.id for image in listed})
            assert {image.id for image in listed} == expected_ids(catalog, predicate)
    ids = sorted(catalog)
    listed = list_all(client, FOLDER, filter=f'id = "{ids[0]}"')
    assert [image.id for image in listed] == [ids[0]]
    listed = list_all(client, FOLDER, filter=f'id IN ("{ids[1]}", "{ids[2]}")')
    assert [image.id for image in listed] == ids[1:3]
    listed = list_all(client, FOLDER, filter=f'id NOT IN ("{ids[1]}", "{ids[2]}") AND id != "{ids[0]}"')
    assert [image.id for image in listed] == ids[3:]


ORDER_KEYS = {
    "id": lambda image: (image.id,),
    "name": lambda image: (image.name, image.id),
    "createdAt": lambda image: (image.created_at.ToDatetime(), image.id),
}


def test_list_order_by_every_field_both_ways_with_stable_pages(catalog, paused_backend, subtests):
    client = paused_backend.viewer
    ids = sorted(catalog)
    # Ties on created_at as on the empty names: the order must break them by id.
    set_created_at(ids[:3], dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
    images = {image.id: image for image in list_all(client, FOLDER)}
    for field, key in ORDER_KEYS.items():
        for direction in ("", " asc", " desc", " DESC"):
            order_by = field + direction
            expected = [
                image.id for image in sorted(images.values(), key=key, reverse="desc" in order_by.lower())
            ]
            for page_size in (1, 2, 3, 100):
                with subtests.test(msg=f"{order_by} / {page_size}"):
                    listed = list_all(client, FOLDER, order_by=order_by, page_size=page_size)
                    assert [image.id for image in listed] == expected
    default = list_all(client, FOLDER, page_size=2)
    assert [image.id for image in default] == ids
    filtered = list_all(client, FOLDER, filter='name != "beta"', order_by="createdAt desc", page_size=2)
    expected = sorted(
        (i for i in images.values() if i.name != "beta"), key=ORDER_KEYS["createdAt"], reverse=True
    )
    assert [image.id for image in filtered] == [image.id for image in expected]


# --- idempotency ---------------------------------------------------------------------------------
