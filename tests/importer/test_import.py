"""run_import end to end against a real local HTTP server: success, every failure, cancel, secrets."""

from __future__ import annotations

import hashlib
import logging
import pickle
import socket
import threading
import time

import pytest

from images.importer import (
    FetchFailed,
    ImageRejected,
    ImportCancelled,
    ImportPolicy,
    ImportResult,
    ImportStalled,
    UrlRejected,
    check_url,
    run_import,
)
from images.importer.errors import DOWNLOAD_FAILED
from images.importer.fetch import open_download

SECRET = "X-Amz-Signature=TOPSECRET0123456789&X-Amz-Credential=KEYID%2F20260101"


def temp_files(store):
    return list((store.root / "tmp").iterdir()) if (store.root / "tmp").exists() else []


def blobs(store):
    return (
        [p for p in (store.root / "blobs").rglob("*") if p.is_file()]
        if (store.root / "blobs").exists()
        else []
    )


@pytest.fixture(autouse=True)
def capture_everything(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_secret_absent(caplog, *errors):
    for record in caplog.records:
        assert "TOPSECRET" not in record.getMessage()
        assert "KEYID" not in record.getMessage()
    for error in errors:
        assert "TOPSECRET" not in str(error) and "TOPSECRET" not in error.message
        assert "TOPSECRET" not in getattr(error, "detail", "")


@pytest.mark.parametrize(
    "name",
    [
        "v3.qcow2",
        "v2.qcow2",
        "monolithicSparse.vmdk",
        "streamOptimized.vmdk",
        "fixed.vhd",
        "dynamic.vhd",
        "disk.raw",
    ],
)
def test_import_stores_the_image_and_reports_format_and_sizes(
    server, store, cancel, disk_images, caplog, name
):
    path, disk_format = disk_images.accepted[name]
    data = path.read_bytes()
    calls = []
    result = run_import(
        server.url(f"/files/{name}?{SECRET}"),
        policy=server.policy(),
        store=store,
        cancel=cancel,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert isinstance(result, ImportResult)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.storage_size == len(data)
    assert result.disk_format == disk_format
    assert store.path(result.sha256).read_bytes() == data
    assert calls[0] == (0, len(data)) and calls[-1] == (len(data), len(data))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert temp_files(store) == []
    assert_secret_absent(caplog)
    assert any(name in record.getMessage() for record in caplog.records)  # the redacted URL is logged


@pytest.mark.parametrize("route", ["chunked", "nolength"])
def test_import_without_a_declared_length_works_and_reports_total_zero(
    server, store, cancel, disk_images, route
):
    data = disk_images.path("v3.qcow2").read_bytes()
    totals = set()
    result = run_import(
        server.url(f"/{route}/v3.qcow2"),
        policy=server.policy(),
        store=store,
        cancel=cancel,
        progress=lambda done, total: totals.add(total),
    )
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert totals == {0}


def test_a_body_longer_than_declared_is_cut_off(server, store, cancel, disk_images):
    data = disk_images.path("v3.qcow2").read_bytes()
    result = run_import(server.url("/long/v3.qcow2"), policy=server.policy(), store=store, cancel=cancel)
    assert result.storage_size == len(data)
    assert store.path(result.sha256).read_bytes() == data


def test_a_body_shorter_than_declared_fails(server, store, cancel, caplog):
    with pytest.raises(FetchFailed) as failed:
        run_import(
            server.url(f"/short/v3.qcow2?{SECRET}"), policy=server.policy(), store=store, cancel=cancel
        )
    assert failed.value.message == DOWNLOAD_FAILED
    assert "ended after" in failed.value.detail
    assert temp_files(store) == [] and blobs(store) == []
    assert_secret_absent(caplog, failed.value)


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/status/404", "HTTP status 404"),
        ("/status/500", "HTTP status 500"),
        ("/status/503", "HTTP status 503"),
        ("/status/204", "HTTP status 204"),
        ("/status/206", "HTTP status 206"),
        ("/gzip/v3.qcow2", "Content-Encoding"),
        ("/transfer-gzip/v3.qcow2", "Transfer-Encoding"),
        ("/badlength/v3.qcow2", "invalid Content-Length"),
        ("/twolengths/v3.qcow2", "invalid Content-Length"),
        ("/echo", "BadStatusLine"),
        ("/redirect/4/files/v3.qcow2", "more than 3 redirects"),
        ("/redirect/99/files/v3.qcow2", "more than 3 redirects"),
    ],
)
def test_download_failures_all_share_one_public_message(server, store, cancel, caplog, path, detail):
    with pytest.raises(FetchFailed) as failed:
        run_import(server.url(f"{path}?{SECRET}"), policy=server.policy(), store=store, cancel=cancel)
    assert failed.value.message == DOWNLOAD_FAILED
    assert detail in failed.value.detail
    assert detail in caplog.text
    assert temp_files(store) == [] and blobs(store) == []
    assert_secret_absent(caplog, failed.value)


def test_up_to_three_redirects_are_followed(server, store, cancel, disk_images):
    result = run_import(
        server.url("/redirect/3/files/v3.qcow2"), policy=server.policy(), store=store, cancel=cancel
    )
    assert result.disk_format == "qcow2"
    assert [r.split("?")[0] for r in server.served.requests] == [
        "/redirect/3/files/v3.qcow2",
        "/redirect/2/files/v3.qcow2",
        "/redirect/1/files/v3.qcow2",
        "/files/v3.qcow2",
    ]


def test_a_redirect_loop_fails_after_the_limit(server, store, cancel):
    server.locations["loop"] = "/to/loop"
    with pytest.raises(FetchFailed, match=DOWNLOAD_FAILED):
        run_import(server.url("/to/loop"), policy=server.policy(), store=store, cancel=cancel)
    assert len(server.served.requests) == 4


@pytest.mark.parametrize(
    "location",
    [
        "http://example.com/disk.img",
        "https://storage.yandexcloud.net.evil.com/disk.img",
        "http://2130706433:{port}/files/v3.qcow2",
        "http://127.1:{port}/files/v3.qcow2",
        "http://[::ffff:127.0.0.1]:{port}/files/v3.qcow2",
        "http://localhost:{port}/files/v3.qcow2",
        "http://127.0.0.1:1/files/v3.qcow2",
        "http://user:TOPSECRET@127.0.0.1:{port}/files/v3.qcow2",
        "file:///etc/passwd",
        "ftp://127.0.0.1:{port}/x",
        "http://169.254.169.254/latest/meta-data/?TOPSECRET",
    ],
)
def test_a_redirect_the_policy_refuses_fails_without_following_it(server, store, cancel, caplog, location):
    server.locations["away"] = location.format(port=server.port)
    with pytest.raises(FetchFailed) as failed:
        run_import(server.url(f"/to/away?{SECRET}"), policy=server.policy(), store=store, cancel=cancel)
    assert failed.value.message == DOWNLOAD_FAILED
    assert "was refused" in failed.value.detail
    assert len(server.served.requests) == 1
    assert_secret_absent(caplog, failed.value)


def test_a_redirect_to_an_allowed_name_that_resolves_inside_the_network_is_refused(server, store, cancel):
    name = "images.example.com"
    server.locations["dns"] = f"http://{name}:{server.port}/files/v3.qcow2"
    policy = server.policy(allowed_hosts=(f"127.0.0.1:{server.port}", f"{name}:{server.port}"))
    looked_up = []

    def resolver(host, port):
        looked_up.append((host, port))
        return ["127.0.0.1"]

    with pytest.raises(FetchFailed) as failed:
        run_import(server.url("/to/dns"), policy=policy, store=store, cancel=cancel, resolver=resolver)
    assert "non-public" in failed.value.detail
    assert looked_up == [(name, server.port)]
    assert len(server.served.requests) == 1


def test_a_redirect_back_to_the_allowlisted_address_is_followed(server, store, cancel):
    server.locations["back"] = server.url("/files/v3.qcow2")
    result = run_import(server.url("/to/back"), policy=server.policy(), store=store, cancel=cancel)
    assert result.disk_format == "qcow2"


def test_a_host_name_resolving_to_a_private_address_is_never_connected(server, store, cancel):
    policy = server.policy(allowed_hosts=(f"images.example.com:{server.port}",))
    with pytest.raises(FetchFailed, match=DOWNLOAD_FAILED):
        run_import(
            f"http://images.example.com:{server.port}/files/v3.qcow2",
            policy=policy,
            store=store,
            cancel=cancel,
            resolver=lambda host, port: ["10.0.0.7"],
        )
    assert server.served.requests == []


def test_a_url_the_policy_refuses_raises_url_rejected_without_a_connection(server, store, cancel, caplog):
    for url in (
        server.url(f"/files/v3.qcow2?{SECRET}", host="2130706433"),
        server.url(f"/files/v3.qcow2?{SECRET}", host="localhost"),
        f"https://127.0.0.1:{server.port}/files/v3.qcow2?{SECRET}".replace("https", "gopher"),
    ):
        with pytest.raises(UrlRejected) as refused:
            run_import(url, policy=server.policy(), store=store, cancel=cancel)
        assert_secret_absent(caplog, refused.value)
    assert server.served.requests == []


def test_a_declared_length_above_the_limit_fails_before_the_body(server, store, cancel):
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        run_import(server.url("/huge"), policy=server.policy(), store=store, cancel=cancel)
    assert "above the" in failed.value.detail
    assert time.monotonic() - started < 2


def test_a_body_above_the_limit_fails_when_no_length_was_declared(server, store, cancel, disk_images):
    size = disk_images.path("v3.qcow2").stat().st_size
    with pytest.raises(FetchFailed) as failed:
        run_import(
            server.url("/nolength/v3.qcow2"),
            policy=server.policy(max_bytes=size - 1),
            store=store,
            cancel=cancel,
        )
    assert "larger than" in failed.value.detail
    assert temp_files(store) == []
    calls = []
    with pytest.raises(FetchFailed) as failed:
        run_import(
            server.url("/files/v3.qcow2"),
            policy=server.policy(max_bytes=size - 1),
            store=store,
            cancel=cancel,
            progress=lambda done, total: calls.append(done),
        )
    assert "declared size" in failed.value.detail
    assert calls == []  # refused on the headers, before any of the body was read


def test_a_server_that_never_answers_times_out(server, store, cancel):
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        run_import(server.url("/stall"), policy=server.policy(read_timeout=0.5), store=store, cancel=cancel)
    assert "no data for 0.5 s" in failed.value.detail
    assert time.monotonic() - started < 3


def test_a_server_that_trickles_hits_the_total_timeout(server, store, cancel):
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        run_import(
            server.url("/trickle/v3.qcow2"),
            policy=server.policy(total_timeout=1.0),
            store=store,
            cancel=cancel,
        )
    assert "longer than 1 s" in failed.value.detail
    assert time.monotonic() - started < 3
    assert temp_files(store) == []


def test_a_source_below_the_minimum_progress_stalls_and_leaves_nothing(server, store, cancel):
    started = time.monotonic()
    with pytest.raises(ImportStalled) as stalled:
        run_import(
            server.url("/trickle/v3.qcow2"),
            policy=server.policy(stall_bytes=64 * 1024, stall_seconds=0.5),
            store=store,
            cancel=cancel,
        )
    assert stalled.value.message == (
        "the source stalled: less than 64 KiB arrived in 0.5 s; try again when it is reachable at speed"
    )
    assert 0.5 <= time.monotonic() - started < 3
    assert temp_files(store) == []


def test_a_source_above_the_minimum_progress_is_not_stalled(server, store, cancel, disk_images):
    result = run_import(
        server.url("/files/disk.raw"),
        policy=server.policy(stall_bytes=64 * 1024, stall_seconds=0.5),
        store=store,
        cancel=cancel,
    )
    assert result.storage_size == disk_images.path("disk.raw").stat().st_size


def test_connection_refused_is_a_download_failure(store, cancel):
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = ImportPolicy(allowed_hosts=(f"127.0.0.1:{port}",), allow_http=True)
    with pytest.raises(FetchFailed, match=DOWNLOAD_FAILED) as failed:
        run_import(f"http://127.0.0.1:{port}/x", policy=policy, store=store, cancel=cancel)
    assert "refused" in failed.value.detail.lower()


def test_cancel_during_a_slow_download_stops_within_a_second_and_leaves_nothing(server, store, cancel):
    receiving = threading.Event()
    outcome = {}

    def progress(done, total):
        if done > 0:
            receiving.set()

    def run():
        try:
            run_import(
                server.url("/slow/v3.qcow2"),
                policy=server.policy(),
                store=store,
                cancel=cancel,
                progress=progress,
            )
        except BaseException as error:  # noqa: BLE001 - the test inspects whatever ended the import
            outcome["error"] = error
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    assert receiving.wait(10), "the import never received data"
    assert temp_files(store) != []  # data was being written
    cancelled_at = time.monotonic()
    cancel.set()
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(outcome["error"], ImportCancelled)
    assert outcome["ended"] - cancelled_at < 1.0
    assert temp_files(store) == [] and blobs(store) == []


def test_cancel_before_the_start_connects_to_nothing(server, store, cancel):
    cancel.set()
    with pytest.raises(ImportCancelled):
        run_import(server.url("/files/v3.qcow2"), policy=server.policy(), store=store, cancel=cancel)
    assert server.served.requests == []


def test_a_refused_image_stops_the_download_early_and_leaves_nothing(
    server, store, cancel, disk_images, tmp_path
):
    # A qcow2 with a backing file, padded to 32 MiB: the header alone decides.
    padded = disk_images.root / "backing-padded.qcow2"
    padded.write_bytes(disk_images.path("backing.qcow2").read_bytes().ljust(32 * 1024 * 1024, b"\0"))
    seen = []
    with pytest.raises(ImageRejected, match="backing file"):
        run_import(
            server.url(f"/files/backing-padded.qcow2?{SECRET}"),
            policy=server.policy(),
            store=store,
            cancel=cancel,
            progress=lambda done, total: seen.append(done),
        )
    assert max(seen) <= 1024 * 1024
    assert temp_files(store) == [] and blobs(store) == []


@pytest.mark.parametrize("name", ["empty.raw", "image.vhdx", "qcow2-with-mbr.qcow2", "parent-hint.vmdk"])
def test_refused_images_over_http_raise_image_rejected(server, store, cancel, caplog, name):
    with pytest.raises(ImageRejected) as refused:
        run_import(server.url(f"/files/{name}?{SECRET}"), policy=server.policy(), store=store, cancel=cancel)
    assert refused.value.message
    assert temp_files(store) == [] and blobs(store) == []
    assert_secret_absent(caplog, refused.value)


def test_the_host_header_omits_the_default_port_and_the_request_keeps_the_query(server, store, cancel):
    # A pre-signed URL signs its Host and query: both must reach the server unchanged.
    target = check_url(server.url(f"/files/v3.qcow2?{SECRET}"), server.policy())
    with open_download(target, policy=server.policy(), cancel=cancel) as download:
        assert download.declared == download.total > 0
    assert server.served.requests == [f"/files/v3.qcow2?{SECRET}"]


def test_proxy_variables_are_ignored(server, store, cancel, monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/")
    result = run_import(server.url("/files/v3.qcow2"), policy=server.policy(), store=store, cancel=cancel)
    assert result.disk_format == "qcow2"


def roundtrip(value):
    return pickle.loads(pickle.dumps(value))  # noqa: S301 - our own objects, pickled by this test


def test_errors_results_and_policies_survive_pickling_for_a_child_process():
    # The worker may run an import in a child process and send these back through a pipe.
    for error in (FetchFailed("HTTP status 404"), ImageRejected("no"), ImportCancelled(), UrlRejected("bad")):
        copy = roundtrip(error)
        assert type(copy) is type(error) and copy.message == error.message
        assert getattr(copy, "detail", None) == getattr(error, "detail", None)
    result = ImportResult(sha256="0" * 64, storage_size=1, virtual_size=512, disk_format="raw")
    assert roundtrip(result) == result
    policy = ImportPolicy(allowed_hosts=("127.0.0.1:8080", "storage.yandexcloud.net"), allow_http=True)
    copy = roundtrip(policy)
    assert copy == policy and copy.allows_address("127.0.0.1", 8080)
