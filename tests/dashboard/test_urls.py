"""Every ID the API accepts works in every dashboard URL (folder IDs may hold `/`, `?`, `%`, dots)."""

from urllib.parse import unquote, urlsplit

import pytest
from django.urls import resolve, reverse

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
from images.api.gen.yandex.cloud.compute.v1.image_service_pb2 import CreateImageMetadata

ODD_FOLDERS = ["team/a", "a/../b", "..", ".", "50% off?#x", "ünïcode folder", "%2F", "x" * 50]


def _image_in(backend, folder_id: str, name: str) -> str:
    disk = backend.register_source("disk", folder_id, 8 * 1024**3)
    api = backend.editor
    request = image_service_pb2.CreateImageRequest(folder_id=folder_id, name=name, disk_id=disk)
    operation = api.call(api.images.Create, request)
    backend.wait_operation(operation.id)
    metadata = CreateImageMetadata()
    operation.metadata.Unpack(metadata)
    return metadata.image_id


@pytest.mark.parametrize("folder_id", ODD_FOLDERS)
def test_folder_urls_round_trip_any_id_the_api_accepts(folder_id):
    for name in ("image-list", "image-create", "image-bulk-delete", "family-list"):
        url = reverse(name, args=[folder_id])
        path = urlsplit(url).path
        assert "?" not in url and "#" not in url
        assert "/./" not in path and "/../" not in path
        # A WSGI server decodes the path once before Django routes it.
        assert resolve(unquote(path)).kwargs["folder_id"] == folder_id


@pytest.mark.parametrize("folder_id", ["team/a", "50% off?#x", ".."])
def test_pages_of_an_image_in_a_folder_with_odd_characters_work(editor_client, dashboard, folder_id):
    image_id = _image_in(dashboard, folder_id, "web-1")
    listing = editor_client.get(reverse("image-list", args=[folder_id]))
    assert listing.status_code == 200 and b"web-1" in listing.content
    for name in ("image-detail", "image-edit", "image-delete"):
        response = editor_client.get(reverse(name, args=[image_id]))
        assert response.status_code == 200, name
        assert reverse("image-list", args=[folder_id]).encode() in response.content
    assert editor_client.get(reverse("image-create", args=[folder_id])).status_code == 200
    assert editor_client.get(reverse("family-list", args=[folder_id])).status_code == 200


def test_folder_picker_goes_to_a_folder_whose_id_has_a_slash(editor_client, dashboard):
    response = editor_client.get("/folders/go", {"folder": "a/b"})
    assert response.status_code == 302
    assert response["Location"] == reverse("image-list", args=["a/b"])
    assert editor_client.get(response["Location"]).status_code == 200
