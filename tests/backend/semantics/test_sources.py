"""DiskService and SnapshotService, read side: Get and List over the source catalog, with the
rules of image List (ids, page_size, page tokens, filter, order_by), the registersource flags and
the demo's named disks and snapshots."""

from __future__ import annotations

import datetime as dt
import io

import grpc
import pytest
from django.core.management import CommandError, call_command

from images.api.gen.yandex.cloud.compute.v1 import disk_pb2, snapshot_pb2
from images.api.gen.yandex.cloud.compute.v1 import disk_service_pb2 as dsv
from images.api.gen.yandex.cloud.compute.v1 import snapshot_service_pb2 as ssv
from tests.backend.support import GIB, assert_invalid, raises_rpc

FOLDER = "folder-sources"
OTHER = "folder-sources-other"


def list_disks(client, folder_id=FOLDER, **fields):
    return client.call(client.disks.List, dsv.ListDisksRequest(folder_id=folder_id, **fields))


def all_disk_names(client, **fields) -> list[str]:
    names, token = [], ""
    while True:
        page = list_disks(client, page_token=token, **fields)
        names += [disk.name for disk in page.disks]
        token = page.next_page_token
        if not token:
            return names


@pytest.fixture
def catalog(backend):
    """Five disks and two snapshots in FOLDER, a disk in OTHER; created_at one minute apart."""
    from images.store.models import Source

    made = {}
    for minute, (kind, folder, name, labels) in enumerate(
        [
            ("disk", FOLDER, "web-boot", {"env": "prod", "team": "web"}),
            ("disk", FOLDER, "db-data", {"env": "prod", "team": "data"}),
            ("disk", FOLDER, "ci-scratch", {"env": "ci"}),
            ("disk", FOLDER, "api-boot", {"team": "api"}),
            ("disk", FOLDER, "", {}),
            ("snapshot", FOLDER, "db-nightly", {"env": "prod"}),
            ("snapshot", FOLDER, "web-golden", {}),
            ("disk", OTHER, "web-boot", {"env": "staging"}),
        ]
    ):
        source_id = backend.register_source(
            kind, folder, (minute + 1) * GIB, product_ids=[f"p{minute}"], name=name, labels=labels,
            description=f"{name} described",
        )  # fmt: skip
        when = dt.datetime(2026, 1, 1, 12, minute, tzinfo=dt.UTC)
        Source.objects.filter(id=source_id).update(created_at=when)
        made[(folder, kind, name)] = source_id
    return made


def test_get_disk_answers_every_field_with_the_contracts_defaults(backend, catalog):
    disk = backend.viewer.call(
        backend.viewer.disks.Get, dsv.GetDiskRequest(disk_id=catalog[(FOLDER, "disk", "web-boot")])
    )
    assert disk.id == catalog[(FOLDER, "disk", "web-boot")]
    assert disk.folder_id == FOLDER
    assert disk.created_at.ToDatetime(dt.UTC) == dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert (disk.name, disk.description) == ("web-boot", "web-boot described")
    assert dict(disk.labels) == {"env": "prod", "team": "web"}
    assert (disk.type_id, disk.zone_id, disk.block_size) == ("network-hdd", "ru-central1-a", 4096)
    assert disk.size == 1 * GIB
    assert list(disk.product_ids) == ["p0"]
    assert disk.status == disk_pb2.Disk.READY
    assert disk.WhichOneof("source") is None
    assert list(disk.instance_ids) == []


def test_get_snapshot_answers_its_sizes_and_status(backend, catalog):
    snapshot_id = catalog[(FOLDER, "snapshot", "db-nightly")]
    client = backend.viewer
    snapshot = client.call(client.snapshots.Get, ssv.GetSnapshotRequest(snapshot_id=snapshot_id))
    assert (snapshot.id, snapshot.folder_id, snapshot.name) == (snapshot_id, FOLDER, "db-nightly")
    assert (snapshot.storage_size, snapshot.disk_size) == (6 * GIB, 6 * GIB)
    assert snapshot.status == snapshot_pb2.Snapshot.READY
    assert dict(snapshot.labels) == {"env": "prod"}
    assert snapshot.description == "db-nightly described"


def test_get_of_an_unknown_id_is_not_found_in_the_contracts_form(backend, catalog):
    client = backend.viewer
    with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
        client.call(client.disks.Get, dsv.GetDiskRequest(disk_id="nosuchdisk"))
    assert caught.message == 'Disk "nosuchdisk" not found'
    # A snapshot is not a disk, and the other way round.
    snapshot_id = catalog[(FOLDER, "snapshot", "db-nightly")]
    with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
        client.call(client.disks.Get, dsv.GetDiskRequest(disk_id=snapshot_id))
    assert caught.message == f'Disk "{snapshot_id}" not found'
    disk_id = catalog[(FOLDER, "disk", "web-boot")]
    with raises_rpc(grpc.StatusCode.NOT_FOUND) as caught:
        client.call(client.snapshots.Get, ssv.GetSnapshotRequest(snapshot_id=disk_id))
    assert caught.message == f'Snapshot "{disk_id}" not found'


@pytest.mark.parametrize("value", ["", "x" * 51])
def test_get_refuses_a_missing_or_too_long_id(backend, value):
    client = backend.viewer
    with raises_rpc() as caught:
        client.call(client.disks.Get, dsv.GetDiskRequest(disk_id=value))
    assert_invalid(caught, "disk_id")
    with raises_rpc() as caught:
        client.call(client.snapshots.Get, ssv.GetSnapshotRequest(snapshot_id=value))
    assert_invalid(caught, "snapshot_id")


def test_get_accepts_an_id_of_exactly_50_characters(backend):
    client = backend.viewer
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(client.disks.Get, dsv.GetDiskRequest(disk_id="x" * 50))


def test_list_holds_the_folders_disks_only_in_id_order_by_default(backend, catalog):
    page = list_disks(backend.viewer)
    ids = [disk.id for disk in page.disks]
    assert ids == sorted(
        source_id for (folder, kind, _), source_id in catalog.items() if folder == FOLDER and kind == "disk"
    )
    assert page.next_page_token == ""
    client = backend.viewer
    snapshots = client.call(client.snapshots.List, ssv.ListSnapshotsRequest(folder_id=FOLDER)).snapshots
    assert sorted(s.name for s in snapshots) == ["db-nightly", "web-golden"]
    assert [disk.name for disk in list_disks(client, OTHER).disks] == ["web-boot"]
    assert list(list_disks(client, "folder-empty").disks) == []


@pytest.mark.parametrize(
    ("filter", "names"),
    [
        ('name = "web-boot"', ["web-boot"]),
        ('name != "web-boot"', ["", "api-boot", "ci-scratch", "db-data"]),
        ('name IN ("db-data", "api-boot", "nope")', ["api-boot", "db-data"]),
        ('labels.env = "prod"', ["db-data", "web-boot"]),
        ('labels.env != "prod"', ["", "api-boot", "ci-scratch"]),
        ('labels.team IN ("web", "api") AND labels.env = "prod"', ["web-boot"]),
        ('status = "READY"', ["", "api-boot", "ci-scratch", "db-data", "web-boot"]),
        ('status IN ("ERROR", "CREATING")', []),
        ('status != "READY"', []),
    ],
)
def test_list_filters_by_name_labels_and_status(backend, catalog, filter, names):
    assert sorted(all_disk_names(backend.viewer, filter=filter)) == names


def test_list_filters_by_id(backend, catalog):
    disk_id = catalog[(FOLDER, "disk", "db-data")]
    assert all_disk_names(backend.viewer, filter=f'id = "{disk_id}"') == ["db-data"]


@pytest.mark.parametrize(
    ("filter", "reason"),
    [
        (
            'family = "x"',
            'unknown field "family" at position 1; fields are name, id, status and labels.<key>',
        ),
        ('size = "1"', 'unknown field "size" at position 1; fields are name, id, status and labels.<key>'),
        (
            'status = "BROKEN"',
            'unknown status "BROKEN" at position 10; statuses are CREATING, READY, ERROR, DELETING',
        ),
        ("name = web", 'expected a quoted value at position 8, found "web"; quote values with " or \''),
        ("x" * 1001, "must be at most 1000 characters"),
    ],
)
def test_list_refuses_a_bad_filter_naming_the_problem(backend, filter, reason):
    with raises_rpc() as caught:
        list_disks(backend.viewer, filter=filter)
    assert assert_invalid(caught, "filter") == reason


@pytest.mark.parametrize(
    ("order_by", "names"),
    [
        ("name", ["", "api-boot", "ci-scratch", "db-data", "web-boot"]),
        ("name desc", ["web-boot", "db-data", "ci-scratch", "api-boot", ""]),
        ("createdAt", ["web-boot", "db-data", "ci-scratch", "api-boot", ""]),
        ("createdAt desc", ["", "api-boot", "ci-scratch", "db-data", "web-boot"]),
    ],
)
def test_list_orders_and_pages_stably_in_every_order(backend, catalog, order_by, names):
    assert all_disk_names(backend.viewer, order_by=order_by) == names
    assert all_disk_names(backend.viewer, order_by=order_by, page_size=2) == names


@pytest.mark.parametrize(
    ("order_by", "reason"),
    [
        ("size", 'unknown field "size"; fields are id, name and createdAt'),
        ("name up", 'expected asc or desc after "name", found "up"'),
    ],
)
def test_list_refuses_a_bad_order_by(backend, order_by, reason):
    with raises_rpc() as caught:
        list_disks(backend.viewer, order_by=order_by)
    assert assert_invalid(caught, "order_by") == reason


def test_list_pages_by_page_size_and_token(backend, catalog):
    client = backend.viewer
    first = list_disks(client, page_size=2, order_by="name")
    assert [disk.name for disk in first.disks] == ["", "api-boot"]
    assert first.next_page_token
    second = list_disks(client, page_size=2, order_by="name", page_token=first.next_page_token)
    assert [disk.name for disk in second.disks] == ["ci-scratch", "db-data"]


@pytest.mark.parametrize(("page_size", "field"), [(-1, "page_size"), (1001, "page_size")])
def test_list_refuses_a_page_size_out_of_range(backend, page_size, field):
    with raises_rpc() as caught:
        list_disks(backend.viewer, page_size=page_size)
    assert_invalid(caught, field)


def test_list_accepts_the_largest_page_size(backend, catalog):
    assert len(list_disks(backend.viewer, page_size=1000).disks) == 5


def test_a_page_token_is_bound_to_its_list(backend, catalog):
    client = backend.viewer
    token = list_disks(client, page_size=1).next_page_token
    for other in (
        dict(page_token="garbage"),
        dict(page_token=token, filter='labels.env = "prod"'),
        dict(page_token=token, order_by="name"),
        dict(page_token=token[:-1] + ("A" if token[-1] != "A" else "B")),
        dict(page_token="x" * 101),
    ):
        with raises_rpc() as caught:
            list_disks(client, page_size=1, **other)
        assert_invalid(caught, "page_token")
    # Nor does a disk List token open the snapshot List of the same folder.
    with raises_rpc() as caught:
        client.call(
            client.snapshots.List, ssv.ListSnapshotsRequest(folder_id=FOLDER, page_size=1, page_token=token)
        )
    assert_invalid(caught, "page_token")


@pytest.mark.parametrize("folder_id", ["", "f" * 51])
def test_list_refuses_a_missing_or_too_long_folder_id(backend, folder_id):
    client = backend.viewer
    with raises_rpc() as caught:
        list_disks(client, folder_id)
    assert_invalid(caught, "folder_id")
    with raises_rpc() as caught:
        client.call(client.snapshots.List, ssv.ListSnapshotsRequest(folder_id=folder_id))
    assert_invalid(caught, "folder_id")


def test_the_other_methods_of_the_services_are_unimplemented(backend):
    # Not in our .proto: the SDK's CreateDiskRequest path answers UNIMPLEMENTED on the wire.
    channel = backend.viewer.channel
    call = channel.unary_unary("/yandex.cloud.compute.v1.DiskService/Create")
    with raises_rpc(grpc.StatusCode.UNIMPLEMENTED):
        call(b"", metadata=[("authorization", f"Bearer {backend.editor_token}")], timeout=5)


def run_register(*args) -> str:
    out = io.StringIO()
    call_command("registersource", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_registersource_takes_a_name_a_description_and_labels(backend):
    disk_id = run_register(
        "disk", "--folder-id", FOLDER, "--size", str(GIB), "--name", "from-cli",
        "--description", "registered by hand", "--label", "env=prod", "--label", "team=", "--os", "linux",
    )  # fmt: skip
    disk = backend.viewer.call(backend.viewer.disks.Get, dsv.GetDiskRequest(disk_id=disk_id))
    assert (disk.name, disk.description) == ("from-cli", "registered by hand")
    assert dict(disk.labels) == {"env": "prod", "team": ""}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "Bad_Name"], "Request validation error: name: must start with a lowercase letter"),
        (["--description", "d" * 257], "Request validation error: description: must be at most 256"),
        (["--label", "Env=prod"], 'Request validation error: labels: label key "Env" must start'),
        (["--label", "env=Prod"], 'Request validation error: labels: the value of label "env" must'),
        (["--label", "env"], "--label takes key=value, got 'env'"),
        (["--label", "env=a", "--label", "env=b"], "--label env given more than once"),
    ],
)
def test_registersource_refuses_what_images_refuse(backend, args, message):
    from images.store.models import Source

    with pytest.raises(CommandError) as error:
        run_register("snapshot", "--folder-id", FOLDER, "--size", str(GIB), *args)
    assert str(error.value).startswith(message), str(error.value)
    assert not Source.objects.exists()


def test_registersource_refuses_a_name_taken_in_the_folder(backend):
    run_register("disk", "--folder-id", FOLDER, "--size", str(GIB), "--name", "taken")
    with pytest.raises(CommandError, match='Disk with name "taken" already exists in folder'):
        run_register("disk", "--folder-id", FOLDER, "--size", str(GIB), "--name", "taken")
    # Names are per kind and per folder.
    run_register("snapshot", "--folder-id", FOLDER, "--size", str(GIB), "--name", "taken")
    run_register("disk", "--folder-id", OTHER, "--size", str(GIB), "--name", "taken")


def test_the_demo_has_named_labelled_disks_and_snapshots_in_two_folders(backend):
    from images.domain.demo import DEMO_FOLDER, staging_folder

    call_command("seeddemo", stdout=io.StringIO())
    client = backend.viewer
    for folder in (DEMO_FOLDER, staging_folder(DEMO_FOLDER)):
        disks = list_disks(client, folder).disks
        snapshots = client.call(client.snapshots.List, ssv.ListSnapshotsRequest(folder_id=folder)).snapshots
        assert disks and snapshots, folder
        for source in [*disks, *snapshots]:
            assert source.name and source.description and source.labels, source
    newest_first = list_disks(client, DEMO_FOLDER, order_by="createdAt desc").disks
    assert [disk.name for disk in newest_first] == ["build-runner-data", "web-frontend-boot"]
