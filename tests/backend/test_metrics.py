"""The backend's /metrics endpoint, scraped for real after real calls on a real server."""

from __future__ import annotations

import grpc
import pytest

from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv
from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import raises_rpc
from tests.conftest import running_backend
from tests.scrape import Scrape

FOLDER = "folder-metrics"
GET = "/yandex.cloud.compute.v1.ImageService/Get"
LIST = "/yandex.cloud.compute.v1.ImageService/List"
GIB = 1024**3


@pytest.fixture
def metered(transactional_db, data_dir):
    with running_backend(workers=2, metrics_port=0) as handle:
        yield handle


@pytest.fixture
def metered_paused(transactional_db, data_dir):
    with running_backend(workers=0, metrics_port=0) as handle:
        yield handle


def scrape(backend) -> Scrape:
    return Scrape(f"http://127.0.0.1:{backend.server.metrics_port}/metrics")


def test_metrics_listen_on_loopback_on_their_own_port(metered):
    host, port = metered.server.metrics_server.server_address[:2]
    assert host == "127.0.0.1" and port not in (0, metered.server.port)
    assert scrape(metered).value("imageservice_health_serving") == 1


def test_calls_count_under_their_method_and_code_with_their_latency(metered):
    client = metered.editor
    before = scrape(metered)
    with raises_rpc(grpc.StatusCode.NOT_FOUND):
        client.call(client.images.Get, isv.GetImageRequest(image_id="fd8nosuchimage"))
    client.call(client.images.List, isv.ListImagesRequest(folder_id=FOLDER))
    client.call(client.images.List, isv.ListImagesRequest(folder_id=FOLDER, filter='name="x"'))
    after = scrape(metered)

    def moved(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("imageservice_rpc_requests_total", method=GET, code="NOT_FOUND") == 1
    assert moved("imageservice_rpc_requests_total", method=GET, code="OK") == 0
    assert moved("imageservice_rpc_duration_seconds_count", method=GET, code="NOT_FOUND") == 1
    assert moved("imageservice_rpc_requests_total", method=LIST, code="OK") == 2
    assert moved("imageservice_rpc_duration_seconds_sum", method=LIST, code="OK") > 0
    # The sub-millisecond buckets exist, so a fast call is not lumped with slow ones.
    assert (
        after.value("imageservice_rpc_duration_seconds_bucket", method=GET, code="NOT_FOUND", le="0.00025")
        >= 0
    )
    assert any(
        labels.get("le") == "0.0001"
        for labels, _ in after.samples["imageservice_rpc_duration_seconds_bucket"]
    )
    assert moved("imageservice_db_list_query_duration_seconds_count", shape="precompiled") == 1
    assert moved("imageservice_db_list_query_duration_seconds_count", shape="filtered") == 1


def test_operations_count_started_and_finished_by_kind_and_outcome(metered):
    client = metered.editor
    disk = metered.register_source("disk", FOLDER, 1 * GIB)
    before = scrape(metered)
    created = client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk))
    assert client.wait(created.id).WhichOneof("result") == "response"
    after = scrape(metered)
    assert (
        after.value("imageservice_operations_started_total", kind="create")
        - before.value("imageservice_operations_started_total", kind="create")
        == 1
    )
    assert (
        after.value("imageservice_operations_finished_total", kind="create", outcome="done")
        - before.value("imageservice_operations_finished_total", kind="create", outcome="done")
        == 1
    )


def test_queue_gauges_come_from_the_database_and_a_cancel_counts(metered_paused):
    client = metered_paused.editor
    disk = metered_paused.register_source("disk", FOLDER, 1 * GIB)
    before = scrape(metered_paused)
    assert before.value("imageservice_operations_queued") == 0
    assert before.value("imageservice_operations_oldest_queued_age_seconds") == 0
    pending = client.call(client.images.Create, isv.CreateImageRequest(folder_id=FOLDER, disk_id=disk))

    queued = scrape(metered_paused)
    assert queued.value("imageservice_operations_queued") == 1
    assert queued.value("imageservice_operations_running") == 0
    assert queued.value("imageservice_operations_oldest_queued_age_seconds") > 0

    client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=pending.id))
    after = scrape(metered_paused)
    assert after.value("imageservice_operations_queued") == 0
    assert (
        after.value("imageservice_operation_cancel_requests_total")
        - before.value("imageservice_operation_cancel_requests_total")
        == 1
    )
    assert (
        after.value("imageservice_operations_finished_total", kind="create", outcome="cancelled")
        - before.value("imageservice_operations_finished_total", kind="create", outcome="cancelled")
        == 1
    )


def test_a_server_without_a_metrics_port_serves_and_counts_no_rpc_metrics(backend):
    from prometheus_client import REGISTRY

    def count():
        return (
            REGISTRY.get_sample_value("imageservice_rpc_requests_total", {"method": LIST, "code": "OK"}) or 0
        )

    assert backend.server.metrics_port is None and backend.server.metrics_server is None
    before = count()
    client = backend.editor
    client.call(client.images.List, isv.ListImagesRequest(folder_id=FOLDER))
    assert count() == before
