"""The folder's operations page stays live for a viewer while an editor's import runs and is cancelled."""

import threading

import pytest
from playwright.sync_api import expect

from tests.dashboard.fixtures import FOLDER
from tests.dashboard.test_folder_operations import running_slow_import
from tests.importer.conftest import disk_images, image_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def files(settings, image_server):  # noqa: F811 (the imported fixture)
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{image_server.port}"]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    yield image_server
    image_server.release.set()
    image_server.release = threading.Event()


def test_a_viewer_watches_an_editors_import_and_its_cancel_without_reloading(
    files, sign_in, site, browser_seed
):
    browser_seed.image("web-1")
    operation = running_slow_import(browser_seed.backend, files)
    viewer = sign_in("viewer")
    viewer.goto(f"{site}/f/{FOLDER}/operations/")
    row = viewer.locator(f"#op-{operation.id}")
    expect(row.locator(".badge")).to_have_text("running")
    expect(row.locator("progress")).to_have_attribute("value", "16")
    expect(row).to_contain_text("1 MiB of 6 MiB")
    expect(row.locator("button", has_text="Cancel")).to_have_count(0)
    expect(viewer.locator("#nav-ops-count")).to_have_text("1 running")  # fetched after the page
    viewer_url = viewer.url

    editor = sign_in("editor")
    editor.goto(f"{site}/f/{FOLDER}/operations/")
    editor.locator(f"#op-{operation.id} button", has_text="Cancel").click()
    expect(editor.locator(f"#op-{operation.id} .badge")).to_have_text("cancelled")  # refreshed at once

    # The viewer's page learns of it from its own poll (1 s, 2 s, 4 s ... after it opened).
    expect(row.locator(".badge")).to_have_text("cancelled", timeout=20_000)
    expect(row.locator("progress")).to_have_count(0)
    assert viewer.url == viewer_url  # no reload, no navigation
    expect(viewer.locator("#folder-ops .watch")).to_have_count(0)  # nothing runs: the poll stopped
