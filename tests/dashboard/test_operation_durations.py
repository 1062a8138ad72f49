"""The image page's operation row for a real, slow import: a running operation's time grows for
every viewer, and a finished one shows how long it really took (created_at to modified_at)."""

import random
import re

import pytest

from dashboard import tray
from dashboard.presenters import OperationView
from dashboard.templatetags.dashboard import duration
from tests.backend.support import wait_until
from tests.dashboard.test_changes import CREATE, _session_request, create_form
from tests.importer.apiserver import HeldImageServer

MiB = 1024**2
RUNNING = re.compile(r"running for ([\d.]+) s")


@pytest.fixture
def held(tmp_path, settings):
    """A real HTTP server whose /gate/disk.raw sends 1 MiB, then the rest when the test opens it."""
    (tmp_path / "disk.raw").write_bytes(random.Random(8).randbytes(4 * MiB))
    server = HeldImageServer(tmp_path)
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    yield server
    server.reset()
    server.close()


def _operations_row(client, image_id: str) -> str:
    body = client.get(f"/images/{image_id}/").content.decode()
    table = body[body.index('id="operations"') :]
    return table[table.index("<tbody>") : table.index("</tbody>")]


def _running_seconds(client, image_id: str) -> float:
    found = RUNNING.search(_operations_row(client, image_id))
    return float(found.group(1)) if found else -1.0


@pytest.mark.slow
def test_a_slow_imports_row_grows_while_running_and_keeps_its_real_duration(
    held, editor_client, viewer_client, seed
):
    data = create_form(source_kind="uri", uri=held.url("/gate/disk.raw"), name="slow-1")
    response = editor_client.post(CREATE, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    image_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    operation_id = tray.entries(_session_request(editor_client))[0].id

    # Another user's page: the row says how long the import has been running, and that grows.
    first = wait_until(
        lambda: (seconds := _running_seconds(viewer_client, image_id)) >= 1.0 and seconds,
        message="running for at least 1 s",
    )
    later = wait_until(
        lambda: (seconds := _running_seconds(viewer_client, image_id)) > first and seconds,
        message="a longer running time",
    )
    assert "< 0.1 s" not in _operations_row(viewer_client, image_id)

    held.open_gate()
    done = seed.backend.wait_operation(operation_id)
    assert not done.HasField("error"), done.error
    row = _operations_row(viewer_client, image_id)
    took = OperationView.from_proto(done).elapsed()
    # `later` was shown rounded to a tenth of a second, so it may read up to 0.05 s above the truth.
    assert took is not None and took.total_seconds() >= later - 0.05
    assert "running for" not in row and f'<td class="num">{duration(took)}</td>' in row
    assert ">done<" in row
