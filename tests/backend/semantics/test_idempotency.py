"""Idempotency keys: a repeated key returns the earlier operation, per caller, for 24 hours."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.semantics.helpers import (
    FOLDER,
    delete,
    get_operation,
    update,
)
from tests.backend.support import (
    GIB,
    create_ready,
    get_image,
    list_all,
    raises_rpc,
    stored_state,
    unpack_image,
)


def test_a_repeated_idempotency_key_returns_the_earlier_operation_whatever_the_body(backend):
    client = backend.editor
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    key = str(uuid.uuid4())
    request = isv.CreateImageRequest(folder_id=FOLDER, name="once", disk_id=disk)
    first = client.call(client.images.Create, request, idempotency_key=key)
    done = client.wait(first.id)
    before = stored_state()
    # The same body (whose name is now taken), another body, an invalid body, another RPC.
    repeats = [
        lambda: client.call(client.images.Create, request, idempotency_key=key),
        lambda: client.call(
            client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name="other", disk_id=disk),
            idempotency_key=key,
        ),
        lambda: client.call(client.images.Create, isv.CreateImageRequest(name="Bad\n"), idempotency_key=key),
        lambda: client.call(
            client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id="missing"), idempotency_key=key
        ),
        lambda: update(client, "nope", paths=["size"], key=key),
        lambda: delete(client, "", key=key),
    ]  # fmt: skip
    for repeat in repeats:
        assert repeat() == done  # the current state: done now
    assert stored_state() == before
    assert [image.name for image in list_all(client, FOLDER)] == ["once"]


def test_idempotent_update_and_delete(backend):
    client = backend.editor
    image = create_ready(client, backend, FOLDER, name="idem")
    key = str(uuid.uuid4())
    first = update(client, image.id, paths=["description"], description="one", key=key)
    again = update(client, image.id, paths=["description"], description="two", key=key)
    assert again.id == first.id
    client.wait(first.id)
    assert get_image(client, image.id).description == "one"
    delete_key = str(uuid.uuid4())
    deleting = delete(client, image.id, key=delete_key)
    client.wait(deleting.id)
    # The image is gone; the repeated Delete still answers with the finished operation.
    assert delete(client, image.id, key=delete_key) == get_operation(client, deleting.id)


def test_idempotency_keys_are_kept_at_least_24_hours(backend):
    from django.utils import timezone

    from images.domain import operations
    from images.store.models import IdempotencyKey

    client = backend.editor
    key = str(uuid.uuid4())
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    request = isv.CreateImageRequest(folder_id=FOLDER, name="kept", disk_id=disk)
    first = client.wait(client.call(client.images.Create, request, idempotency_key=key).id)
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=24, minutes=5))
    operations.purge_expired_keys()  # what the worker runs hourly
    assert client.call(client.images.Create, request, idempotency_key=key) == first
    assert [image.name for image in list_all(client, FOLDER)] == ["kept"]


def test_callers_do_not_share_idempotency_keys(backend):
    alice = backend.client(backend.create_token("alice", "editor"))
    bob = backend.client(backend.create_token("bob", "editor"))
    key = str(uuid.uuid4())
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    first = alice.call(
        alice.images.Create,
        isv.CreateImageRequest(folder_id=FOLDER, name="a", disk_id=disk),
        idempotency_key=key,
    )
    second = bob.call(
        bob.images.Create,
        isv.CreateImageRequest(folder_id=FOLDER, name="b", disk_id=disk),
        idempotency_key=key,
    )
    assert first.id != second.id
    assert (alice.wait(first.id).created_by, bob.wait(second.id).created_by) == ("alice", "bob")
    assert sorted(image.name for image in list_all(alice, FOLDER)) == ["a", "b"]


def test_a_rejected_call_does_not_use_up_its_key(backend):
    client = backend.editor
    key = str(uuid.uuid4())
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    with raises_rpc(grpc.StatusCode.INVALID_ARGUMENT):
        client.call(
            client.images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, name="Bad", disk_id=disk),
            idempotency_key=key,
        )
    create_ready(client, backend, FOLDER, name="taken", disk_id=disk)
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        client.call(
            client.images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, name="taken", disk_id=disk),
            idempotency_key=key,
        )
    operation = client.call(
        client.images.Create,
        isv.CreateImageRequest(folder_id=FOLDER, name="good", disk_id=disk),
        idempotency_key=key,
    )
    assert unpack_image(client.wait(operation.id)).name == "good"


# --- operability ---------------------------------------------------------------------------------
