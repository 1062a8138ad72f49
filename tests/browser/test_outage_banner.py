"""The backend-down banner clears itself once the backend answers again, with nobody touching the page."""

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.fixtures import FOLDER
from tests.dashboard.test_outage import outage  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_the_unreachable_banner_goes_away_when_the_backend_is_back(
    sign_in,
    site,
    browser_seed,
    outage,  # noqa: F811
):
    browser_seed.image("web-1")
    page = sign_in("viewer")
    page.goto(f"{site}/f/{FOLDER}/images/")
    expect(page.locator("#results")).to_contain_text("web-1")
    # The page's own requests (the nav's operation count, the status poll and the refresh it
    # triggers for the image just created) finish first: one answered after the outage began would
    # count as the backend being back and clear the banner this test waits for.
    page.wait_for_load_state("networkidle")
    outage.stop()
    page.click("#results th a:has-text('Name')")
    banner = page.locator("#alerts [data-backend-alert]")
    expect(banner).to_contain_text("unavailable")
    expect(page).not_to_have_url(re.compile(r"sort="))
    outage.restart()
    # The banner's own probe (1 s, then 2 s, 4 s ...) finds the backend and removes it.
    expect(banner).to_have_count(0, timeout=20_000)
    expect(page.locator("#results")).to_contain_text("web-1")


def test_a_late_answer_to_a_request_sent_before_the_outage_keeps_the_banner(
    sign_in,
    site,
    browser_seed,
    outage,  # noqa: F811
):
    browser_seed.image("web-1")
    page = sign_in("viewer")
    held = []

    def hold(route):  # answered now, while the backend is up, and delivered to the page later
        held.append((route, route.fetch()))

    page.route("**/operations/running*", hold)
    page.goto(f"{site}/f/{FOLDER}/images/")
    expect(page.locator("#results")).to_contain_text("web-1")
    page.wait_for_function("() => !document.querySelector('.htmx-request:not(#nav-ops-count)')")
    assert len(held) == 1  # the nav's operation count, sent at page load
    outage.stop()
    page.click("#results th a:has-text('Name')")
    banner = page.locator("#alerts [data-backend-alert]")
    expect(banner).to_contain_text("unavailable")
    route, response = held.pop()
    route.fulfill(response=response)
    expect(page.locator("#nav-ops-count.htmx-request")).to_have_count(0)  # its answer is in
    expect(banner).to_have_count(1)
    outage.restart()
    expect(banner).to_have_count(0, timeout=20_000)
