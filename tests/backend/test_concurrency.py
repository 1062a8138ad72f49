"""Concurrent callers against one real server: name races, lost updates, paging under churn,
idempotency races, and never "database is locked"."""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from google.protobuf import field_mask_pb2

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from tests.backend.support import (
    GIB,
    create_ready,
    get_image,
    image_id_of,
    list_all,
    unpack_image,
    wait_until,
)

FOLDER = "folder-concurrency"
RACERS = 20


@pytest.fixture
def watch(caplog):
    """Fails the test if the server ever logged a locked database or an unhandled error."""
    caplog.set_level("INFO")
    yield
    text = caplog.text.lower()
    assert "database is locked" not in text
    assert "code=internal" not in text
    assert "unhandled error" not in text


def race(count: int, call):
    """Runs call(index) on `count` threads released together; returns (results, errors) by index."""
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait(timeout=10)
        try:
            return call(index), None
        except grpc.RpcError as error:
            return None, error

    with ThreadPoolExecutor(count) as pool:
        outcomes = list(pool.map(run, range(count)))
    return [result for result, _ in outcomes], [error for _, error in outcomes]


def assert_no_lock_errors(errors):
    for error in errors:
        if error is not None:
            assert "locked" not in error.details().lower(), error.details()
            assert error.code() != grpc.StatusCode.INTERNAL, error.details()


def test_concurrent_creates_with_one_name_let_exactly_one_through(backend, watch):
    from images.store.models import Image, Operation

    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    clients = [backend.editor for _ in range(RACERS)]
    results, errors = race(
        RACERS,
        lambda index: clients[index].call(
            clients[index].images.Create,
            isv.CreateImageRequest(folder_id=FOLDER, name="contested", disk_id=disk, description=str(index)),
        ),
    )
    assert_no_lock_errors(errors)
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert sorted(error.code().name for error in errors if error is not None) == ["ALREADY_EXISTS"] * (
        RACERS - 1
    )
    done = clients[0].wait(winners[0].id)
    assert unpack_image(done).name == "contested"
    assert Image.objects.filter(folder_id=FOLDER).count() == 1
    assert Operation.objects.count() == 1


def test_concurrent_creates_with_one_idempotency_key_make_one_operation(backend, watch):
    from images.store.models import IdempotencyKey, Image, Operation

    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    key = str(uuid.uuid4())
    clients = [backend.editor for _ in range(RACERS)]
    results, errors = race(
        RACERS,
        lambda index: clients[index].call(
            clients[index].images.Create,
            # Different bodies too: the key decides, not the body.
            isv.CreateImageRequest(folder_id=FOLDER, name=f"idem-{index}", disk_id=disk),
            idempotency_key=key,
        ),
    )
    assert errors == [None] * RACERS
    assert len({result.id for result in results}) == 1
    assert len({image_id_of(result) for result in results}) == 1
    clients[0].wait(results[0].id)
    assert Image.objects.filter(folder_id=FOLDER).count() == 1
    assert Operation.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def accept_update(client, image_id: str, deadline: float, **fields):
    """Sends the Update until it is accepted (FAILED_PRECONDITION while the other one runs)."""
    paths = list(fields)
    request = isv.UpdateImageRequest(
        image_id=image_id, update_mask=field_mask_pb2.FieldMask(paths=paths), **fields
    )
    rejected = 0
    while True:
        try:
            return client.call(client.images.Update, request), rejected
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            rejected += 1
        if time.monotonic() > deadline:
            raise AssertionError("update never accepted")
        time.sleep(0.001)


def test_concurrent_updates_with_different_masks_lose_nothing(backend, watch):
    first, second = backend.editor, backend.editor
    image = create_ready(first, backend, FOLDER, name="target", description="start", labels={"n": "start"})
    deadline = time.monotonic() + 120
    rejected_total = 0
    barrier = threading.Barrier(2)

    def describe(round_):
        barrier.wait(timeout=10)
        operation, rejected = accept_update(first, image.id, deadline, description=f"description-{round_}")
        first.wait(operation.id)
        return rejected

    def label(round_):
        barrier.wait(timeout=10)
        operation, rejected = accept_update(second, image.id, deadline, labels={"n": f"label-{round_}"})
        second.wait(operation.id)
        return rejected

    with ThreadPoolExecutor(2) as pool:
        for round_ in range(200):
            futures = [pool.submit(describe, round_), pool.submit(label, round_)]
            rejected_total += sum(future.result() for future in futures)
            current = get_image(first, image.id)
            assert current.description == f"description-{round_}", round_
            assert dict(current.labels) == {"n": f"label-{round_}"}, round_
            assert current.name == "target"
    assert rejected_total > 0  # the two really raced


def test_paging_while_others_create_and_delete_sees_every_lasting_image_once(backend, watch):
    client = backend.editor
    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    names = [f"s{index:03d}" for index in range(0, 150, 3)]  # leaves gaps for the churn's names
    operations = [
        client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name=name, disk_id=disk))
        for name in names
    ]
    lasting = {image_id_of(operation) for operation in operations}
    for operation in operations:
        client.wait(operation.id)
    stop = threading.Event()
    churn_errors = []
    churned = [0]

    def churn(seed):
        local = random.Random(seed)
        mine = backend.editor
        while not stop.is_set():
            try:
                name = f"s{local.randrange(150):03d}-{uuid.uuid4().hex[:6]}"
                created = mine.wait(
                    mine.call(
                        mine.images.Create, isv.CreateImageRequest(folder_id=FOLDER, name=name, disk_id=disk)
                    ).id
                )
                image_id = unpack_image(created).id
                mine.wait(mine.call(mine.images.Delete, isv.DeleteImageRequest(image_id=image_id)).id)
                churned[0] += 1
            except Exception as error:  # reported after the test's own assertions
                churn_errors.append(error)
                return

    workers = [threading.Thread(target=churn, args=(seed,)) for seed in range(3)]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: churned[0] >= 3, message="churn under way")
        churn_before = churned[0]
        for order_by in ["", "name", "name desc", "createdAt", "createdAt desc", "id desc"] * 2:
            for filter in ("", 'status = "READY"'):
                seen = [
                    image.id
                    for image in list_all(client, FOLDER, page_size=7, order_by=order_by, filter=filter)
                ]
                assert len(seen) == len(set(seen)), f"an image seen twice: {order_by!r} {filter!r}"
                assert lasting <= set(seen), f"an image missed: {order_by!r} {filter!r}"
        churn_during = churned[0] - churn_before
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert churn_errors == []
    assert churn_during >= 3  # the pages were read while the others created and deleted
    assert {image.id for image in list_all(client, FOLDER)} == lasting


def test_concurrent_deletes_of_one_image_start_one_operation(backend, watch):
    from images.store.models import Operation

    disk = backend.register_source("disk", FOLDER, 1 * GIB)
    client = backend.editor
    image = create_ready(client, backend, FOLDER, disk_id=disk)
    clients = [backend.editor for _ in range(10)]
    results, errors = race(
        10,
        lambda index: clients[index].call(
            clients[index].images.Delete, isv.DeleteImageRequest(image_id=image.id)
        ),
    )
    assert_no_lock_errors(errors)
    accepted = [result for result in results if result is not None]
    assert len(accepted) == 1
    assert {error.code() for error in errors if error is not None} <= {
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
    }
    client.wait(accepted[0].id)
    assert Operation.objects.filter(image_id=image.id, kind="delete").count() == 1


@pytest.mark.parametrize("method", ["Update", "Delete"])
def test_concurrent_updates_or_deletes_with_one_idempotency_key_make_one_operation(backend, watch, method):
    from images.store.models import Operation

    image = create_ready(backend.editor, backend, FOLDER, name="keyed")
    key = str(uuid.uuid4())
    clients = [backend.editor for _ in range(RACERS)]
    requests = {
        "Update": lambda index: isv.UpdateImageRequest(
            image_id=image.id,
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            description=str(index),
        ),
        "Delete": lambda index: isv.DeleteImageRequest(image_id=image.id),
    }
    results, errors = race(
        RACERS,
        lambda index: clients[index].call(
            getattr(clients[index].images, method), requests[method](index), idempotency_key=key
        ),
    )
    assert [error and (error.code(), error.details()) for error in errors] == [None] * RACERS
    assert len({result.id for result in results}) == 1
    clients[0].wait(results[0].id)
    assert Operation.objects.filter(image_id=image.id).exclude(kind="create").count() == 1
