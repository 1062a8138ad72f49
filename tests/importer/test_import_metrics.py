"""Import metrics on the backend's real /metrics endpoint: bytes, phases, failures by reason."""

from __future__ import annotations

import pytest

from images.api.gen.yandex.cloud.operation import operation_service_pb2 as osv
from tests.backend.support import wait_until
from tests.conftest import running_backend
from tests.importer.test_api_import import CANCELLED, MiB, create, held_server, http, import_settings  # noqa: F401
from tests.scrape import Scrape


@pytest.fixture
def metered(import_settings, transactional_db, data_dir):  # noqa: F811
    with running_backend(workers=2, metrics_port=0) as handle:
        yield handle


def scrape(backend) -> Scrape:
    return Scrape(f"http://127.0.0.1:{backend.server.metrics_port}/metrics")


def test_a_cancelled_import_counts_under_cancelled_with_its_downloaded_bytes(metered, http):  # noqa: F811
    client = metered.editor
    before = scrape(metered)
    operation = create(client, http.url("/slow/disk.raw"))
    wait_until(lambda: scrape(metered).value("imageservice_imports_active") == 1, message="import active")
    wait_until(
        lambda: (
            scrape(metered).value("imageservice_import_downloaded_bytes_total")
            - before.value("imageservice_import_downloaded_bytes_total")
            >= MiB
        ),
        message="the first MiB counted",
    )
    client.call(client.operations.Cancel, osv.CancelOperationRequest(operation_id=operation.id))
    assert client.wait(operation.id).error.code == CANCELLED
    wait_until(lambda: scrape(metered).value("imageservice_imports_active") == 0, message="import ended")
    after = scrape(metered)

    def moved(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("imageservice_import_failures_total", reason="cancelled") == 1
    assert moved("imageservice_import_failures_total") == 1  # under no other reason
    assert moved("imageservice_operations_finished_total", kind="create", outcome="cancelled") == 1


def test_a_finished_import_times_each_phase_and_a_bad_download_counts_as_download(metered, http):  # noqa: F811
    client = metered.editor
    before = scrape(metered)
    assert client.wait(create(client, http.url("/files/v3.qcow2")).id).WhichOneof("result") == "response"
    assert client.wait(create(client, http.url("/status/500")).id).error.code != 0
    after = scrape(metered)
    for phase in ("download", "inspect", "store"):
        name = "imageservice_import_phase_duration_seconds_count"
        assert after.value(name, phase=phase) - before.value(name, phase=phase) == 1, phase
    name = "imageservice_import_failures_total"
    assert after.value(name, reason="download") - before.value(name, reason="download") == 1
    assert after.value(name) - before.value(name) == 1
