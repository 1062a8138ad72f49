"""`make run` as a presenter uses it: rundemo's printed editor login, Create from the slow demo URI,
the progress bar moving in the tray, then a READY image; SIGTERM ends it all."""

from __future__ import annotations

import re
import signal

import pytest
from playwright.sync_api import expect

from images.domain import demo_store
from images.domain.demo import DEMO_FOLDER
from tests.test_rundemo import rundemo  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def _progress(tray) -> int:
    return int(tray.locator("progress").first.get_attribute("value") or 0)


def test_the_demo_imports_the_slow_uri_with_a_moving_progress_bar(chromium, rundemo):  # noqa: F811
    process, ports, banner, _ = rundemo
    site = f"http://127.0.0.1:{ports['http']}"
    username, password = re.search(r"login: (editor) / (\S+)\s+\(editor\)", banner).groups()
    (slow_uri,) = re.findall(rf"(http://127\.0\.0\.1:\d+/{re.escape(demo_store.SLOW_NAME)})", banner)

    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{site}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/f/**")
        page.goto(f"{site}/f/{DEMO_FOLDER}/images/")
        page.click("text=Create image")
        page.check("input[name=source_kind][value=uri]")
        page.fill("#id_uri", slow_uri)
        page.fill("#id_name", "from-the-slow-demo-uri")
        page.click("button:has-text('Create image')")

        tray = page.locator("#ops-tray")
        expect(tray.locator(".op").first).to_contain_text("from-the-slow-demo-uri")
        expect(tray.locator(".op .badge").first).to_have_text("running")
        bar = tray.locator(".op progress").first
        expect(bar).to_be_visible()
        # The tray polls on its own: the bar's value grows while the slow store sends.
        first = _progress(tray)
        expect(bar).not_to_have_attribute("value", str(first))
        second = _progress(tray)
        assert second > first
        expect(bar).not_to_have_attribute("value", str(second))
        assert _progress(tray) > second
        expect(tray.locator(".op .badge").first).to_have_text("done", timeout=90_000)
        expect(page.locator("#image-detail h1 .badge").first).to_have_text("ready")
    finally:
        context.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
