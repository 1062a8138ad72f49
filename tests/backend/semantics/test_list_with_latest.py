"""The extension's ListImages: a List page as ImageService.List answers it, and which of its images
GetLatestByFamily names now, from one more read of the family summary."""

from __future__ import annotations

import grpc
import pytest

from images.api.gen.imageservice.v1 import extension_pb2_grpc
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.semantics.helpers import CREATING, DELETING, FOLDER, delete
from tests.backend.support import get_image, image_id_of, raises_rpc, run_pending, start_create


@pytest.fixture
def shelf(paused_backend):
    """Families whose latest is plain, moved by a newer CREATING or a DELETING image, or missing
    (only CREATING, only ERROR), and an image of no family; by name, each image's id."""
    backend = paused_backend
    client = backend.editor

    def create(name: str, family: str = "", **fields) -> str:
        return image_id_of(start_create(client, backend, FOLDER, name=name, family=family, **fields))

    ids = {}
    for name, family, labels in [
        ("web-1", "web", {"env": "prod"}),
        ("web-2", "web", {"env": "test"}),
        ("dbs-1", "dbs", {"env": "prod"}),
        ("dbs-2", "dbs", {}),
        ("bad-1", "bad", {}),
        ("plain-1", "", {"env": "prod"}),
    ]:
        ids[name] = create(name, family, labels=labels)
        run_pending(backend)  # one at a time, so created_at orders them as listed
    from images.store.models import Image, ImageStatus

    # ERROR comes from verifyimages finding the data gone; the summary's triggers see it either way.
    Image.objects.filter(id=ids["bad-1"]).update(status=ImageStatus.ERROR)
    delete(client, ids["dbs-2"])  # DELETING: dbs-1 is the family's latest again
    ids["web-3"] = create("web-3", "web")  # CREATING: web-2 stays the latest
    ids["new-1"] = create("new-1", "new")  # a family with no READY image
    assert get_image(client, ids["dbs-2"]).status == DELETING
    assert get_image(client, ids["web-3"]).status == get_image(client, ids["new-1"]).status == CREATING
    return ids


def extension(client):
    return extension_pb2_grpc.ImageExtensionServiceStub(client.channel)


def marked(client, **request):
    return client.call(extension(client).ListImages, isv.ListImagesRequest(folder_id=FOLDER, **request))


def listed(client, **request):
    return client.call(client.images.List, isv.ListImagesRequest(folder_id=FOLDER, **request))


def latest_now(client, images) -> list[str]:
    """The page's images GetLatestByFamily returns, asked family by family (the definition)."""
    found = []
    for image in images:
        if not image.family:
            continue
        try:
            latest = client.call(
                client.images.GetLatestByFamily,
                isv.GetImageLatestByFamilyRequest(folder_id=FOLDER, family=image.family),
            )
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
            continue
        if latest.id == image.id:
            found.append(image.id)
    return found


def assert_list_page_marked(client, **request):
    """The page is List's, byte for byte, and its marks are GetLatestByFamily's; the response."""
    page = marked(client, **request)
    public = listed(client, **request)
    as_public = isv.ListImagesResponse.FromString(page.SerializeToString())
    as_public.DiscardUnknownFields()  # latest_image_ids, to a reader of the public message
    assert as_public == public
    assert list(page.latest_image_ids) == latest_now(client, page.images)
    return page


def test_marks_the_images_get_latest_by_family_returns_in_page_order(paused_backend, shelf):
    client = paused_backend.viewer
    page = assert_list_page_marked(client)
    assert len(page.images) == 8
    assert list(page.latest_image_ids) == sorted([shelf["web-2"], shelf["dbs-1"]])
    # A newer READY image takes the mark; the mark follows the summary, not the page.
    run_pending(paused_backend)  # web-3 and new-1 READY, dbs-2 gone
    page = assert_list_page_marked(client, order_by="createdAt desc")
    assert list(page.latest_image_ids) == [shelf["new-1"], shelf["web-3"], shelf["dbs-1"]]


def test_a_page_marks_only_the_latest_it_holds(paused_backend, shelf):
    client = paused_backend.viewer
    marks, token, pages = [], "", 0
    while True:
        page = assert_list_page_marked(client, page_size=2, page_token=token, order_by="createdAt")
        marks += page.latest_image_ids
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 4
    assert marks == [shelf["web-2"], shelf["dbs-1"]]  # each on its own page, once
    # The family's newest image is CREATING: its latest, web-2, is on the next page, marked there.
    web = {"filter": 'family = "web"', "order_by": "createdAt desc", "page_size": 1}
    first = marked(client, **web)
    assert [i.name for i in first.images] == ["web-3"] and list(first.latest_image_ids) == []
    second = marked(client, page_token=first.next_page_token, **web)
    assert [i.name for i in second.images] == ["web-2"] and list(second.latest_image_ids) == [shelf["web-2"]]


def test_images_not_ready_and_families_without_a_ready_image_are_never_marked(paused_backend, shelf):
    client = paused_backend.viewer
    page = assert_list_page_marked(client, filter='status != "READY"')
    assert {image.name for image in page.images} == {"bad-1", "dbs-2", "web-3", "new-1"}
    assert list(page.latest_image_ids) == []
    only_error = assert_list_page_marked(client, filter='family = "bad"')
    assert [i.name for i in only_error.images] == ["bad-1"] and list(only_error.latest_image_ids) == []


@pytest.mark.parametrize(
    ("filter", "order_by"),
    [
        ('family = "web"', ""),
        ('name = "web-1"', ""),
        ('labels.env = "prod"', "name desc"),
        ('status = "READY"', "createdAt"),
        ('family IN ("dbs", "new") AND status = "READY"', "id desc"),
        ('name:"1"', "name"),
    ],
)
def test_filters_and_orders_give_lists_page_with_its_marks(paused_backend, shelf, filter, order_by):
    assert_list_page_marked(paused_backend.viewer, filter=filter, order_by=order_by)


def test_page_tokens_of_list_and_list_images_continue_each_other(paused_backend, shelf):
    client = paused_backend.viewer
    request = {"page_size": 3, "order_by": "name desc", "filter": 'status != "ERROR"'}
    expected, token = [], ""
    while True:
        page = listed(client, page_token=token, **request)
        expected.append([image.id for image in page.images])
        token = page.next_page_token
        if not token:
            break
    alternating, token, call = [], "", 0
    while True:
        page = (marked if call % 2 == 0 else listed)(client, page_token=token, **request)
        alternating.append([image.id for image in page.images])
        token, call = page.next_page_token, call + 1
        if not token:
            break
    assert alternating == expected and len(expected) == 3
    # A token is bound to its filter and order in both methods alike.
    foreign = marked(client, page_size=1).next_page_token
    for method in (marked, listed):
        with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT):
            method(client, page_token=foreign, **request)


@pytest.mark.parametrize(
    "request_fields",
    [
        {"folder_id": ""},
        {"page_size": 1001},
        {"page_size": -1},
        {"page_token": "not-a-token"},
        {"filter": 'name = "unterminated'},
        {"filter": 'labels.Env = "x"'},
        {"order_by": "size desc"},
    ],
)
def test_a_refused_request_gets_lists_error(paused_backend, request_fields):
    client = paused_backend.viewer
    request = isv.ListImagesRequest(**{"folder_id": FOLDER, **request_fields})
    errors = []
    for method in (client.images.List, extension(client).ListImages):
        with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT) as caught:
            client.call(method, request)
        errors.append((caught.message, caught.violations()))
    assert errors[0] == errors[1]


def test_one_read_of_the_family_summary_and_none_without_a_ready_family_image(paused_backend, shelf):
    from django.db import connection

    from images.domain.families import image_list_with_latest

    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper sees every statement, the prepared ones of PostgreSQL's compiled reads too.
    with connection.execute_wrapper(record):
        page = image_list_with_latest(folder_id=FOLDER)
    assert len(page.images) == 8 and page.latest_image_ids
    assert len(statements) == 2 and "images_imagefamily" in statements[1]  # the page, then the summary
    statements.clear()
    with connection.execute_wrapper(record):
        page = image_list_with_latest(folder_id=FOLDER, filter='status != "READY"')
    assert page.images and not page.latest_image_ids
    assert len(statements) == 1


def test_the_summary_read_pads_its_in_list_and_still_finds_each_family(paused_backend):
    from images.store.queries import latest_of_families

    client = paused_backend.editor
    for index in range(5):  # 5 names pad to 8; 1 to 1; 0 reads nothing
        start_create(client, paused_backend, FOLDER, name=f"f{index}", family=f"fam-{index}")
    run_pending(paused_backend)
    images = {image.family: image.id for image in listed(client).images}
    assert latest_of_families(FOLDER, images) == set(images.values())
    assert latest_of_families(FOLDER, ["fam-3"]) == {images["fam-3"]}
    assert latest_of_families(FOLDER, ["fam-3", "missing"]) == {images["fam-3"]}
    assert latest_of_families("other-folder", images) == set()
    assert latest_of_families(FOLDER, []) == set()
