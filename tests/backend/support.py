"""Helpers for the backend API tests: creating images through the API, reading errors, DB snapshots."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from images.api.gen.yandex.cloud.compute.v1 import image_pb2
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv

GIB = 1024**3
MIB = 1024**2
MESSAGE_FORM = re.compile(r"Request validation error: (?P<field>[^:]+): (?P<reason>.+)", re.DOTALL)


class Caught:
    """The RpcError a `raises_rpc` block caught (filled in when the block ends)."""

    error: grpc.RpcError

    @property
    def code(self) -> grpc.StatusCode:
        return self.error.code()

    @property
    def message(self) -> str:
        return self.error.details()

    def violations(self) -> list[tuple[str, str]]:
        """The google.rpc.BadRequest field violations from the grpc-status-details-bin trailer."""
        status = rpc_status.from_call(self.error)
        assert status is not None, "no grpc-status-details-bin trailer"
        found = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                found += [(v.field, v.description) for v in bad_request.field_violations]
        return found


@contextmanager
def raises_rpc(code: grpc.StatusCode | None = None):
    caught = Caught()
    with pytest.raises(grpc.RpcError) as info:
        yield caught
    caught.error = info.value
    if code is not None:
        assert caught.code == code, f"expected {code}, got {caught.code}: {caught.message}"


def assert_invalid(caught: Caught, field: str) -> str:
    """INVALID_ARGUMENT in the contract's message form with a BadRequest naming `field`; the reason."""
    assert caught.code == grpc.StatusCode.INVALID_ARGUMENT, caught.message
    match = MESSAGE_FORM.fullmatch(caught.message)
    assert match, caught.message
    assert match["field"] == field, caught.message
    assert [violation[0] for violation in caught.violations()] == [field]
    return match["reason"]


def unpack_image(operation) -> image_pb2.Image:
    image = image_pb2.Image()
    assert operation.response.Unpack(image), operation
    return image


def image_id_of(operation) -> str:
    for metadata_type in (isv.CreateImageMetadata, isv.UpdateImageMetadata, isv.DeleteImageMetadata):
        if operation.metadata.Is(metadata_type.DESCRIPTOR):
            metadata = metadata_type()
            operation.metadata.Unpack(metadata)
            return metadata.image_id
    raise AssertionError(f"unexpected metadata {operation.metadata.type_url}")


def start_create(client, backend, folder_id: str, *, disk_size: int = 2 * GIB, disk_id=None, **fields):
    """Starts a Create from a (new) disk and returns the operation."""
    if disk_id is None and not any(key in fields for key in ("image_id", "snapshot_id", "uri")):
        disk_id = backend.register_source("disk", folder_id, disk_size, product_ids=["prod-1"])
    if disk_id is not None:
        fields["disk_id"] = disk_id
    return client.call(client.images.Create, isv.CreateImageRequest(folder_id=folder_id, **fields))


def create_ready(client, backend, folder_id: str, **fields) -> image_pb2.Image:
    """Creates an image through the API and waits until it is READY."""
    done = client.wait(start_create(client, backend, folder_id, **fields).id)
    assert done.WhichOneof("result") == "response", done.error
    image = unpack_image(done)
    assert image.status == image_pb2.Image.READY
    return image


def list_all(client, folder_id: str, *, page_size: int = 0, filter: str = "", order_by: str = ""):
    """Every image of a List, following next_page_token to the end (failing, not hanging, if it never ends)."""
    images, token, tokens = [], "", set()
    while True:
        assert token not in tokens, "a page token came back: the pages would repeat forever"
        tokens.add(token)
        assert len(tokens) <= 2000, "paging did not end"
        page = client.call(
            client.images.List,
            isv.ListImagesRequest(
                folder_id=folder_id, page_size=page_size, page_token=token, filter=filter, order_by=order_by
            ),
        )
        images += list(page.images)
        token = page.next_page_token
        if not token:
            return images


def wait_until(condition, timeout: float = 15.0, interval: float = 0.005, message: str = "condition"):
    """Polls `condition()` until it returns a truthy value, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached after {timeout}s")
        time.sleep(interval)


def stored_state() -> dict:
    """Every row the API can change, to show that a rejected call changed nothing."""
    from images.store.models import IdempotencyKey, Image, Operation

    def rows(model, *exclude):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
        return [
            tuple(str(value) for value in row) for row in model.objects.order_by("pk").values_list(*fields)
        ]

    return {
        "images": rows(Image),
        "operations": rows(Operation),
        "keys": rows(IdempotencyKey),
    }


def run_pending(backend) -> int:
    """Runs every pending operation now, in this thread, through the worker's start-up recovery
    (the code that finishes operations a crash left behind); for a server started with workers=0."""
    return backend.server.worker.recover()


def get_image(client, image_id: str) -> image_pb2.Image:
    return client.call(client.images.Get, isv.GetImageRequest(image_id=image_id))
