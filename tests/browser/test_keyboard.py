"""Every editor flow by keyboard alone: Tab to reach a control, Enter or Space to use it, typing to
fill it; no mouse click and no scripted focus anywhere."""

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.fixtures import FOLDER

pytestmark = pytest.mark.browser


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Presses Tab until the focused element matches selector (fails if Tab never reaches it)."""
    targets = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if targets.evaluate_all("found => found.includes(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_create_from_a_disk_by_keyboard_enter_in_a_field_submits(sign_in, site, browser_seed):
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/")
    tab_to(page, "a:text-is('Create image')")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Create image")
    tab_to(page, "#id_source_id")
    page.keyboard.type(browser_seed.disk)
    tab_to(page, "#id_name")
    page.keyboard.type("by-keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type("kb-app")
    tab_to(page, "input[name=label_key]")
    page.keyboard.type("env")
    page.keyboard.press("Tab")
    page.keyboard.type("prod")
    page.keyboard.press("Enter")  # inside a text field: submits the form (its Create image button)
    expect(page.locator("#image-detail h1")).to_contain_text("by-keyboard")
    expect(page.locator("#image-detail h1 .badge").first).to_have_text("ready")
    expect(page.locator("#image-detail")).to_contain_text("prod")


def test_add_label_by_keyboard_adds_a_row_without_submitting(sign_in, site, browser_seed):
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/new")
    tab_to(page, "[data-add-label]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-label-rows] .label-row")).to_have_count(2)
    expect(page.locator("[data-label-rows] .label-row:last-child input[name=label_key]")).to_be_focused()
    page.keyboard.type("team")
    expect(page).to_have_url(re.compile(r"/images/new$"))


def test_edit_and_save_by_keyboard(sign_in, site, browser_seed):
    image_id = browser_seed.image("kb-edit", labels={"env": "prod"})
    page = sign_in("editor")
    page.goto(f"{site}/images/{image_id}/")
    tab_to(page, "a:text-is('Edit')")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Edit kb-edit")
    tab_to(page, "#id_description")
    page.keyboard.type("typed without a mouse")
    tab_to(page, "input[name=label_value]")
    page.keyboard.press("Control+A")
    page.keyboard.type("test")
    page.keyboard.press("Enter")  # inside a text field: Review changes
    changes = page.locator("table.changes")
    expect(changes).to_contain_text("Description")
    expect(changes).to_contain_text("Label env")
    tab_to(page, "button:text-is('Save changes')")
    page.keyboard.press("Space")
    expect(page.locator("#ops-tray .op .badge").first).to_have_text("done")
    detail = page.locator("#image-detail")
    expect(detail).to_contain_text("typed without a mouse")
    expect(detail.locator("table.kv")).to_contain_text("test")


def test_delete_by_keyboard(sign_in, site, browser_seed):
    image_id = browser_seed.image("kb-gone")
    browser_seed.image("kb-stays")
    page = sign_in("editor")
    page.goto(f"{site}/images/{image_id}/")
    tab_to(page, "a:text-is('Delete…')")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Delete image “kb-gone”?")
    tab_to(page, "button:text-is('Delete kb-gone')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/f/{FOLDER}/images/$"))
    expect(page.locator("#ops-tray .op .badge").first).to_have_text("done")
    expect(page.locator("#results")).not_to_contain_text("kb-gone")
    expect(page.locator("#results")).to_contain_text("kb-stays")
