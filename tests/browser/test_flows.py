"""The flows that need a real browser: HTMX navigation with history, live operations, confirmations."""

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.fixtures import FOLDER

pytestmark = pytest.mark.browser


def test_filter_next_page_back_and_reload_keep_the_view(sign_in, site, browser_seed):
    for i in range(12):
        browser_seed.image(f"web-{i:02d}", family="web-app")
    browser_seed.image("db-1", family="db-main")
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.keyboard.press("/")
    expect(page.locator("#f-name")).to_be_focused()
    page.fill("#f-family", "web-app")
    expect(page).to_have_url(re.compile(r"family=web-app"))
    expect(page.locator("#results")).not_to_contain_text("db-1")
    page.select_option("#f-size", "10")
    expect(page).to_have_url(re.compile(r"family=web-app.*size=10"))
    expect(page.locator("#results tbody tr")).to_have_count(10)
    page.click("#results a[rel=next]")
    expect(page.locator("#results .page-no")).to_have_text("Page 2")
    expect(page).to_have_url(re.compile(r"page="))
    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.go_back()
    expect(page.locator("#results .page-no")).to_have_text("Page 1")
    expect(page.locator("#f-family")).to_have_value("web-app")
    expect(page.locator("#results tbody tr")).to_have_count(10)
    page.go_forward()
    expect(page.locator("#results .page-no")).to_have_text("Page 2")
    page.reload()
    expect(page.locator("#results .page-no")).to_have_text("Page 2")
    expect(page.locator("#f-family")).to_have_value("web-app")
    expect(page.locator("#results")).not_to_contain_text("db-1")


def test_create_from_a_disk_shows_the_operation_then_a_ready_image(sign_in, site, browser_seed):
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.click("text=Create image")
    page.fill("#id_source_id", browser_seed.disk)
    page.fill("#id_name", "fresh-image")
    page.fill("#id_family", "web-app")
    page.fill("[data-label-rows] .label-row:last-child input[name=label_key]", "env")
    page.fill("[data-label-rows] .label-row:last-child input[name=label_value]", "prod")
    page.click("[data-add-label]")
    page.fill("[data-label-rows] .label-row:last-child input[name=label_key]", "team")
    page.fill("[data-label-rows] .label-row:last-child input[name=label_value]", "web")
    page.fill("#id_min_disk_size_0", "10")
    page.click("button:has-text('Create image')")
    tray = page.locator("#ops-tray")
    expect(tray).to_be_visible()
    expect(tray.locator(".op").first).to_contain_text("fresh-image")
    expect(tray.locator(".op .badge").first).to_have_text("running")
    expect(tray.locator(".op .badge").first).to_have_text("done")
    # The page refreshed itself when the operation finished.
    expect(page.locator("#image-detail h1 .badge").first).to_have_text("ready")
    page.click("nav.sections >> text=Images")
    row = page.locator("#results tr", has_text="fresh-image")
    expect(row.locator(".badge")).to_have_text("ready")
    expect(row).to_contain_text("env")
    expect(row).to_contain_text("10 GiB")


def test_edit_labels_with_a_preview(sign_in, site, browser_seed):
    image_id = browser_seed.image("web-1", labels={"env": "prod", "old": "x"})
    page = sign_in("editor")
    page.goto(f"{site}/images/{image_id}/edit")
    page.locator(".label-row", has=page.locator("input[value=old]")).locator("[data-remove-label]").click()
    page.fill("input[name=label_value][value=prod]", "test")
    live = page.locator("#live-changes")
    expect(live).to_contain_text("Label old")
    expect(live).to_contain_text("Label env")
    page.click("button:has-text('Review changes')")
    changes = page.locator("table.changes")
    expect(changes).to_contain_text("Label env")
    expect(changes).to_contain_text("Label old")
    expect(changes.locator("tbody tr")).to_have_count(2)
    page.click("button:has-text('Save changes')")
    expect(page.locator("#ops-tray .op .badge").first).to_have_text("done")
    labels = page.locator("#image-detail table.kv")
    expect(labels).to_contain_text("test")
    expect(labels).not_to_contain_text("old")


def test_delete_asks_for_confirmation_naming_the_image(sign_in, site, browser_seed):
    older = browser_seed.image("web-1", family="web-app")
    newest = browser_seed.image("web-2", family="web-app")
    page = sign_in("editor")
    page.goto(f"{site}/images/{newest}/")
    page.click("text=Delete…")
    expect(page.locator("h1")).to_have_text("Delete image “web-2”?")
    expect(page.locator(".confirm")).to_contain_text(older)
    page.fill("#confirm-input", FOLDER)  # web-2 is its family's latest: the delete asks to type
    page.click("button:has-text('Delete web-2')")
    expect(page).to_have_url(re.compile(rf"/f/{FOLDER}/images/$"))
    expect(page.locator("#ops-tray .op .badge").first).to_have_text("done")
    expect(page.locator("#results")).not_to_contain_text("web-2")
    expect(page.locator("#results")).to_contain_text("web-1")


def test_bulk_delete_names_the_family_impact_and_needs_the_typed_count(sign_in, site, browser_seed):
    older = browser_seed.image("web-1", family="web-app")
    newest = browser_seed.image("web-2", family="web-app")
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.check(f"input[name=ids][value='{newest}']")
    page.click("[data-bulk-button]")
    impact = page.locator(".impact")
    expect(impact).to_contain_text("web-2")
    expect(impact).to_contain_text("becomes the latest")
    expect(impact).to_contain_text(older)
    page.fill("#confirm-input", "1")
    page.click("button:has-text('Delete them')")
    expect(page.locator("h1")).to_have_text("Deleting 1 of 1 image")


def test_family_page_marks_the_latest_version(sign_in, site, browser_seed):
    browser_seed.image("app-1", family="web-app", labels={"v": "1"})
    browser_seed.image("app-2", family="web-app", labels={"v": "2"})
    page = sign_in("viewer")
    page.goto(f"{site}/f/{FOLDER}/families/")
    page.click("text=web-app")
    latest = page.locator(".version.is-latest")
    expect(latest).to_have_count(1)
    expect(latest).to_contain_text("app-2")
    expect(latest.locator(".diff")).to_contain_text("Label v")
    expect(page.locator(".version").nth(1)).to_contain_text("First version")


def test_filters_pages_and_create_work_without_javascript(sign_in, site, browser_seed):
    for i in range(12):
        browser_seed.image(f"web-{i:02d}", family="web-app")
    page = sign_in("editor", javascript=False)
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.fill("#f-family", "web-app")
    page.select_option("#f-size", "10")
    page.click("button:has-text('Apply')")
    expect(page).to_have_url(re.compile(r"family=web-app.*size=10"))
    page.click("a[rel=next]")
    expect(page.locator(".page-no")).to_have_text("Page 2")
    page.goto(f"{site}/f/{FOLDER}/images/new")
    page.fill("#id_source_id", browser_seed.disk)
    page.fill("#id_name", "no-js-image")
    page.fill("input[name=label_key]", "env")
    page.fill("input[name=label_value]", "prod")
    page.click("button:has-text('Add label')")
    expect(page.locator("input[name=label_key]")).to_have_count(3)
    page.click("button:has-text('Create image')")
    expect(page.locator("h1")).to_contain_text("no-js-image")


def test_source_picker_searches_and_works_by_keyboard(sign_in, site, browser_seed):
    backend = browser_seed.backend
    snapshot = backend.register_source("snapshot", FOLDER, 1024**3, name="nightly")
    backend.register_source("snapshot", FOLDER, 1024**3, name="weekly")
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/new")
    source_id = page.locator("#id_source_id")
    page.locator("[data-source-kinds] input[value=disk_id]").focus()
    page.keyboard.press("ArrowRight")  # radio group: the next kind, Snapshot
    expect(page.locator("[data-source-kinds] input[value=snapshot_id]")).to_be_checked()
    source_id.focus()
    page.keyboard.type("NIGH")  # the API searches: name contains, any case
    options = page.locator("#source-listbox [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("nightly")
    expect(source_id).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(source_id).to_have_attribute("aria-activedescendant", f"source-option-{snapshot}")
    page.keyboard.press("Enter")  # picks; does not submit
    expect(source_id).to_have_value(snapshot)
    expect(source_id).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#source-listbox")).to_be_hidden()
    page.locator("#id_name").focus()
    page.keyboard.type("from-nightly")
    page.locator("button:has-text('Create image')").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#image-detail h1")).to_contain_text("from-nightly")
