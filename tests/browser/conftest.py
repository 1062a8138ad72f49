"""Browser fixtures: Debian's Chromium driven by Playwright, signed in to the live dashboard."""

from __future__ import annotations

import os

import pytest

from tests.dashboard.fixtures import (
    PASSWORD,
    Seeder,
    dashboard,  # noqa: F401 (a fixture)
    make_user,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium():
    """One Chromium per module. Playwright's sync API runs an event loop in this thread while it
    lives; the ORM calls the fixtures make meanwhile are still plain synchronous calls, so Django's
    async guard is lifted for exactly that span and restored after."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, dashboard):  # noqa: F811 (the imported fixture)
    """The live dashboard's base URL, talking to the backend fixture."""
    return live_server.url


@pytest.fixture
def browser_seed(dashboard):  # noqa: F811
    return Seeder(dashboard)


@pytest.fixture
def sign_in(chromium, site, dashboard):  # noqa: F811
    """sign_in(role) → a Playwright page signed in as a new user of that role."""
    contexts = []
    violations: list[str] = []

    def _sign_in(
        role: str = "editor",
        *,
        color_scheme: str = "light",
        width: int = 1280,
        height: int = 860,
        javascript: bool = True,
    ):
        user = make_user(dashboard, role)
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
            java_script_enabled=javascript,
        )
        contexts.append(context)
        page = context.new_page()
        # Any Content-Security-Policy violation (an inline script or style htmx might add) fails the test.
        page.on(
            "console",
            lambda message: (
                violations.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.set_default_timeout(10_000)
        page.goto(site + "/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/f/**")
        return page

    yield _sign_in
    for context in contexts:
        context.close()
    assert violations == [], violations
