"""List's search extensions: name contains and prefix (case-insensitive), labels.<key>:* (has key),
combined with every other condition and every order, kept current by every image change."""

from __future__ import annotations

import grpc
import pytest

from tests.backend.semantics.helpers import (
    FOLDER,
    READY,
    delete,
    update,
)
from tests.backend.support import (
    assert_invalid,
    list_all,
    raises_rpc,
    run_pending,
    start_create,
)
from tests.backend.validation.helpers import list_images

ORDERS = ["", "id desc", "name", "name desc", "createdAt", "createdAt desc"]


@pytest.fixture
def catalog(paused_backend):
    backend = paused_backend
    client = backend.editor
    specs = [
        ("debian-11", {"env": "prod", "arch": "x86"}),
        ("debian-12", {"env": "test"}),
        ("my-debian", {"arch": "arm"}),
        ("ubuntu-22", {"env": "prod"}),
        ("de", {}),
        ("", {"arch": ""}),
        ("deb_x-debian", {}),
    ]
    for name, labels in specs:
        start_create(client, backend, FOLDER, name=name, labels=labels)
    start_create(client, backend, "other-folder", name="debian-11", labels={"env": "prod"})
    run_pending(backend)
    return {image.id: image for image in list_all(client, FOLDER)}


def names(images) -> list[str]:
    return [image.name for image in images]


SEARCHES = [
    ('name:"debian"', lambda i: "debian" in i.name),
    ('name:"DeBiAn"', lambda i: "debian" in i.name),
    ('name:"deb*"', lambda i: i.name.startswith("deb")),
    ('name:"DEB*"', lambda i: i.name.startswith("deb")),
    ('name:"de"', lambda i: "de" in i.name),
    ('name:"de*"', lambda i: i.name.startswith("de")),
    ('name:"n-1"', lambda i: "n-1" in i.name),
    ('name:"b_x"', lambda i: "b_x" in i.name),
    ('name:"nothing-like-it"', lambda i: False),
    ('name:"debian-11*"', lambda i: i.name == "debian-11"),
    ('name:"%"', lambda i: False),
    ('name:"_"', lambda i: "_" in i.name),
    ("labels.env:*", lambda i: "env" in i.labels),
    ("labels.arch:*", lambda i: "arch" in i.labels),
    ("labels.nothing:*", lambda i: False),
    (
        'name:"deb*" AND labels.env:* AND status = "READY"',
        lambda i: i.name.startswith("deb") and "env" in i.labels and i.status == READY,
    ),
    (
        'name:"debian" AND labels.env != "prod"',
        lambda i: "debian" in i.name and i.labels.get("env") != "prod",
    ),
    ("labels.arch:* AND labels.env:*", lambda i: "arch" in i.labels and "env" in i.labels),
]

ORDER_KEYS = {
    "": (lambda i: i.id, False),
    "id desc": (lambda i: i.id, True),
    "name": (lambda i: (i.name, i.id), False),
    "name desc": (lambda i: (i.name, i.id), True),
    "createdAt": (lambda i: (i.created_at.ToDatetime(), i.id), False),
    "createdAt desc": (lambda i: (i.created_at.ToDatetime(), i.id), True),
}


def test_search_matches_its_images_in_every_order_across_pages(catalog, paused_backend, subtests):
    client = paused_backend.viewer
    for text, predicate in SEARCHES:
        for order_by, (key, reverse) in ORDER_KEYS.items():
            with subtests.test(msg=f"{text} / {order_by}"):
                expected = sorted((i for i in catalog.values() if predicate(i)), key=key, reverse=reverse)
                listed = list_all(client, FOLDER, filter=text, order_by=order_by, page_size=2)
                assert [i.id for i in listed] == [i.id for i in expected]


def test_search_follows_renames_label_changes_and_deletes(catalog, paused_backend):
    backend = paused_backend
    client = backend.editor
    by_name = {image.name: image for image in catalog.values() if image.name}
    update(client, by_name["ubuntu-22"].id, paths=["name", "labels"], name="debian-13", labels={"team": "x"})
    run_pending(backend)
    assert "debian-13" in names(list_all(client, FOLDER, filter='name:"debian"'))
    assert "ubuntu-22" not in names(list_all(client, FOLDER, filter='name:"ubuntu"'))
    assert "debian-13" not in names(list_all(client, FOLDER, filter="labels.env:*"))
    assert names(list_all(client, FOLDER, filter='labels.team = "x"')) == ["debian-13"]
    assert names(list_all(client, FOLDER, filter="labels.team:*")) == ["debian-13"]

    delete(client, by_name["debian-11"].id)
    run_pending(backend)
    assert "debian-11" not in names(list_all(client, FOLDER, filter='name:"debian"'))
    assert "debian-11" not in names(list_all(client, FOLDER, filter='labels.env = "prod"'))
    # The other folder's image of the same name and label is its own.
    assert names(list_all(client, "other-folder", filter='name:"debian" AND labels.env:*')) == ["debian-11"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name:""', "empty search text"),
        ('name:"*"', "empty search text"),
        ('name:"a*b"', "may only end a search text"),
        ("name:deb", 'expected a quoted text to search for after "name:"'),
        ('family:"web"', 'searches name and labels.<key> only, not "family"'),
        ('labels.env:"prod"', 'expected "*" after "labels.env:"'),
        ("labels.env:", 'expected "*" after "labels.env:"'),
        ("name = *", "expected a quoted value"),
        ('name:"deb" OR labels.env:*', 'expected "AND" or the end of the filter'),
    ],
)
def test_malformed_searches_are_invalid_argument_naming_the_problem(paused_backend, text, problem):
    with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT) as caught:
        list_images(paused_backend.viewer, filter=text)
    assert problem in assert_invalid(caught, "filter")


def test_families_page_takes_two_statements_whatever_its_size(catalog, paused_backend):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from images.domain.families import families_list

    backend = paused_backend
    for index in range(12):
        start_create(backend.editor, backend, FOLDER, name=f"fam-{index}", family=f"fam-{index % 6}")
    run_pending(backend)
    start_create(backend.editor, backend, FOLDER, name="fam-new", family="fam-0")  # CREATING: not latest
    with CaptureQueriesContext(connection) as statements:
        families, _ = families_list(folder_id=FOLDER, page_size=100)
    assert len(statements) == 2, [query["sql"] for query in statements]
    assert [family.name for family in families] == [f"fam-{index}" for index in range(6)]
    assert [family.image_count for family in families] == [3, 2, 2, 2, 2, 2]
    assert [family.latest_image.name for family in families] == [f"fam-{index + 6}" for index in range(6)]


@pytest.fixture
def crowd(paused_backend):
    """2,400 images of one folder: more than 2,000 match the common search text and label value
    (so SQLite walks the order's index for them), a few the rare ones; created_at has ties."""
    import datetime as dt

    from images.store.models import Image, ImageStatus

    t0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    images = [
        Image(
            id=f"crw{(index * 7919) % 10007:05d}{index:012d}",
            folder_id=FOLDER,
            created_at=t0 + dt.timedelta(seconds=index % 97),
            name=f"common-{index}" if index % 40 else f"seldom-{index}",
            family=f"family-{index % 7}",
            labels={"env": "prod" if index % 10 else "test", "build": str(index % 300)},
            status=ImageStatus.READY,
        )
        for index in range(2400)
    ]
    Image.objects.bulk_create(images)
    Image.objects.bulk_create(
        [Image(id="crwother", folder_id="other-folder", created_at=t0, name="common-x")]
    )
    return images


CROWD_FILTERS = [
    ('name:"common"', lambda i: "common" in i.name),
    ('name:"seldom"', lambda i: "seldom" in i.name),
    ('name:"mon-1"', lambda i: "mon-1" in i.name),
    ('labels.env = "prod"', lambda i: i.labels["env"] == "prod"),
    ('labels.env = "test"', lambda i: i.labels["env"] == "test"),
    ('labels.build = "7"', lambda i: i.labels["build"] == "7"),
    ('labels.build = "nowhere"', lambda i: False),
    ('name:"common" AND labels.env = "test"', lambda i: "common" in i.name and i.labels["env"] == "test"),
]
CROWD_ORDER_KEYS = {
    "": (lambda i: i.id, False),
    "id desc": (lambda i: i.id, True),
    "name": (lambda i: (i.name, i.id), False),
    "name desc": (lambda i: (i.name, i.id), True),
    "createdAt": (lambda i: (i.created_at, i.id), False),
    "createdAt desc": (lambda i: (i.created_at, i.id), True),
}


def test_common_and_rare_searches_page_through_the_same_rows_as_the_full_filter(
    crowd, paused_backend, subtests
):
    client = paused_backend.viewer
    for text, predicate in CROWD_FILTERS:
        for order_by, (key, reverse) in CROWD_ORDER_KEYS.items():
            with subtests.test(msg=f"{text} / {order_by}"):
                expected = sorted((i for i in crowd if predicate(i)), key=key, reverse=reverse)
                listed = list_all(client, FOLDER, filter=text, order_by=order_by, page_size=100)
                assert [i.id for i in listed] == [i.id for i in expected]
