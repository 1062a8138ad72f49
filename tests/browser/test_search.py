"""The name filter's search modes and the labels filter's "has key", from the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.fixtures import FOLDER

pytestmark = pytest.mark.browser


def test_slash_focuses_the_name_filter_which_searches_contains_then_starts_with(sign_in, site, browser_seed):
    browser_seed.image("web-1")
    browser_seed.image("old-web-2", labels={"team": "web"})
    browser_seed.image("db-1")
    page = sign_in("viewer")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.locator("h1").click()  # focus on the page, not in a field
    page.keyboard.press("/")
    expect(page.locator("#f-name")).to_be_focused()
    page.keyboard.type("web")
    expect(page).to_have_url(re.compile(r"name=web$"))
    results = page.locator("#results")
    expect(results).not_to_contain_text("db-1")
    expect(results).to_contain_text("old-web-2")
    expect(results).to_contain_text("web-1")
    page.select_option("select[name=name_op]", "prefix")
    expect(page).to_have_url(re.compile(r"name_op=prefix"))
    expect(results).not_to_contain_text("old-web-2")
    expect(results).to_contain_text("web-1")
    page.reload()  # the state is the URL's
    expect(page.locator("select[name=name_op]")).to_have_value("prefix")
    expect(page.locator("#results")).not_to_contain_text("old-web-2")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.fill("#f-labels", "team")
    expect(page).to_have_url(re.compile(r"labels=team"))
    expect(page.locator("#results")).not_to_contain_text("web-1")
    expect(page.locator("#results")).to_contain_text("old-web-2")
