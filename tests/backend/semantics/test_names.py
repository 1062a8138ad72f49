"""Image names: unique per folder at once, empty names never collide, freed by a delete."""

from __future__ import annotations

import grpc

from tests.backend.semantics.helpers import (
    FOLDER,
    delete,
    update,
)
from tests.backend.support import (
    create_ready,
    get_image,
    image_id_of,
    list_all,
    raises_rpc,
    run_pending,
    start_create,
    stored_state,
    unpack_image,
)


def test_names_are_unique_per_folder_synchronously_without_an_operation(backend):
    client = backend.editor
    taken = create_ready(client, backend, FOLDER, name="taken")
    other = create_ready(client, backend, FOLDER, name="other")
    before = stored_state()
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS) as caught:
        start_create(client, backend, FOLDER, name="taken")
    assert "taken" in caught.message
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        update(client, other.id, paths=["name"], name="taken")
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        update(client, other.id, name="taken")  # no mask: every field, the name too
    assert stored_state() == before
    # The same name in another folder, and an image keeping its own name, are fine.
    assert create_ready(client, backend, "another-folder", name="taken").name == "taken"
    kept = client.wait(
        update(client, taken.id, paths=["name", "description"], name="taken", description="d").id
    )
    assert unpack_image(kept).name == "taken"


def test_empty_names_never_collide(backend):
    client = backend.editor
    images = [create_ready(client, backend, FOLDER) for _ in range(3)]
    named = create_ready(client, backend, FOLDER, name="named")
    client.wait(update(client, named.id, paths=["name"], name="").id)
    assert {image.name for image in list_all(client, FOLDER)} == {""}
    assert len({image.id for image in images}) == 3


def test_a_name_is_taken_while_creating_and_free_after_delete(paused_backend):
    backend = paused_backend
    client = backend.editor
    creating = start_create(client, backend, FOLDER, name="reserved")
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):
        start_create(client, backend, FOLDER, name="reserved")
    run_pending(backend)
    delete(client, image_id_of(creating))
    with raises_rpc(grpc.StatusCode.ALREADY_EXISTS):  # DELETING still holds it
        start_create(client, backend, FOLDER, name="reserved")
    run_pending(backend)
    again = start_create(client, backend, FOLDER, name="reserved")
    run_pending(backend)
    assert get_image(client, image_id_of(again)).name == "reserved"


# --- operations that are not done yet ----------------------------------------------------------
