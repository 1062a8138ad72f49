"""Everyday touches in a real browser: copy buttons, the shortcut overlay, theme, columns, saved views."""

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.fixtures import FOLDER, PASSWORD

pytestmark = pytest.mark.browser
LIST = f"/f/{FOLDER}/images/"


def test_a_copy_button_puts_the_id_on_the_clipboard(sign_in, site, browser_seed):
    image = browser_seed.image("web-1")
    page = sign_in("viewer")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page.goto(f"{site}/images/{image}/")
    button = page.get_by_role("button", name=f"Copy ID {image}")
    button.click()
    expect(button).to_have_text("Copied")
    expect(page.locator("#copy-status")).to_have_text(f"Copied {image}")
    assert page.evaluate("navigator.clipboard.readText()") == image
    page.goto(site + LIST)
    page.get_by_role("button", name=f"Copy ID {image}").click()
    assert page.evaluate("navigator.clipboard.readText()") == image


def test_copy_buttons_stay_hidden_without_javascript(sign_in, site, browser_seed):
    image = browser_seed.image("web-1")
    page = sign_in("viewer", javascript=False)
    page.goto(f"{site}/images/{image}/")
    expect(page.locator(f"[data-copy='{image}']")).to_be_hidden()


def test_question_mark_opens_the_shortcut_list_and_escape_closes_it(sign_in, site, browser_seed):
    browser_seed.image("web-1")
    page = sign_in("editor")
    page.goto(site + LIST)
    page.locator("#f-family").focus()
    page.keyboard.press("?")  # typed into a field, it is a character, not a shortcut
    expect(page.locator("#shortcuts")).not_to_be_visible()
    page.locator("#main").focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.locator("dt")).to_have_count(6)
    expect(dialog).to_contain_text("Focus the list filter")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    expect(page.locator("#main")).to_be_focused()
    page.keyboard.press("?")
    expect(dialog.locator("dt")).to_have_count(6)  # listed once, however often it opens
    page.keyboard.press("Escape")
    # Chromium closes a modal dialog on Escape as a queued close request; "/" counts once it has.
    expect(dialog).not_to_be_visible()
    page.keyboard.press("/")
    expect(page.locator("#f-name")).to_be_focused()


def test_the_theme_choice_overrides_the_system_and_is_remembered(sign_in, site, browser_seed):
    page = sign_in("viewer", color_scheme="light")
    page.goto(site + LIST)
    background = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    page.locator(".theme-switch").get_by_role("button", name="Dark").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark = page.evaluate(background)
    assert dark != light
    page.goto(f"{site}/f/{FOLDER}/families/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == dark
    page.emulate_media(color_scheme="dark")
    page.locator(".theme-switch").get_by_role("button", name="Light").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == light  # light although the system is dark
    page.locator(".theme-switch").get_by_role("button", name="Auto").click()
    expect(page.locator("html")).not_to_have_attribute("data-theme", re.compile("."))
    assert page.evaluate(background) == dark  # auto follows the (now dark) system


def test_the_column_chooser_hides_a_column_and_keeps_the_current_filter(sign_in, site, browser_seed):
    browser_seed.image("web-1", family="web-app", labels={"env": "prod"})
    browser_seed.image("db-1", family="db-main")
    page = sign_in("editor")
    page.goto(site + LIST)
    page.fill("#f-family", "web-app")
    expect(page).to_have_url(re.compile(r"family=web-app"))
    expect(page.get_by_role("columnheader", name="Labels")).to_be_visible()
    page.get_by_text("Columns", exact=True).click()
    page.get_by_role("checkbox", name="Labels").uncheck()
    page.get_by_role("button", name="Save columns").click()
    expect(page).to_have_url(re.compile(r"family=web-app"))
    expect(page.get_by_role("columnheader", name="Labels")).to_be_hidden()
    expect(page.get_by_role("link", name="env prod")).to_be_hidden()
    expect(page.get_by_role("columnheader", name="Family")).to_be_visible()
    expect(page.locator("#results")).not_to_contain_text("db-1")


def test_saved_views_survive_signing_out_and_in(sign_in, site, browser_seed):
    browser_seed.image("web-1", family="web-app")
    browser_seed.image("db-1", family="db-main")
    page = sign_in("editor")
    username = page.locator(".account .who").inner_text()
    page.goto(site + LIST)
    page.fill("#f-family", "web-app")
    expect(page).to_have_url(re.compile(r"family=web-app"))
    page.locator("th[aria-sort] a", has_text="Name").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    page.fill("#view-name", "Web by name")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator("#alerts")).to_contain_text("Saved the view")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/**")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/f/**")
    page.goto(site + LIST)
    expect(page.locator("#results")).to_contain_text("db-1")
    page.get_by_role("navigation", name="Saved views").get_by_role("link", name="Web by name").click()
    expect(page).to_have_url(re.compile(r"family=web-app.*sort=name"))
    expect(page.locator("#f-family")).to_have_value("web-app")
    expect(page.locator("#results")).not_to_contain_text("db-1")
    expect(page.locator("#results")).to_contain_text("web-1")
