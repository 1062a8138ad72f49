"""Two tabs of one browser editing one image: the later save merges with the earlier one."""

import pytest
from playwright.sync_api import expect

from tests.dashboard.test_changes import get_image

pytestmark = pytest.mark.browser

GiB = 1024**3


def labels_in(page) -> dict[str, str]:
    rows = page.locator("[data-label-rows] .label-row")
    return {
        row.locator("input[name=label_key]").input_value(): row.locator(
            "input[name=label_value]"
        ).input_value()
        for row in rows.all()
        if row.locator("input[name=label_key]").input_value()
    }


def test_a_second_tab_saving_later_keeps_the_first_tabs_changes(sign_in, site, browser_seed):
    image_id = browser_seed.image("web-1", description="First", labels={"team": "web"})
    url = f"{site}/images/{image_id}/edit"
    tab_a = sign_in("editor")
    tab_b = tab_a.context.new_page()
    tab_a.goto(url)
    tab_b.goto(url)

    tab_a.fill("#id_description", "Second")
    tab_a.click("[data-add-label]")
    tab_a.fill("[data-label-rows] .label-row:last-child input[name=label_key]", "env")
    tab_a.fill("[data-label-rows] .label-row:last-child input[name=label_value]", "prod")
    tab_a.fill("#id_min_disk_size_0", "16")
    tab_a.select_option("#id_min_disk_size_1", "GiB")
    tab_a.click("button:has-text('Review changes')")
    expect(tab_a.locator("table.changes tbody tr")).to_have_count(3)
    tab_a.click("button:has-text('Save changes')")
    expect(tab_a.locator("#ops-tray .op .badge").first).to_have_text("done")

    # B opened the form before A saved and changes only the name.
    tab_b.fill("#id_name", "web-2")
    tab_b.click("button:has-text('Review changes')")
    expect(tab_b.locator(".alert-warning")).to_contain_text("changed since you opened the form")
    expect(tab_b.locator("#id_name")).to_have_value("web-2")
    expect(tab_b.locator("#id_description")).to_have_value("Second")
    expect(tab_b.locator("#id_min_disk_size_0")).to_have_value("16")
    expect(tab_b.locator("#id_min_disk_size_1")).to_have_value("GiB")
    assert labels_in(tab_b) == {"team": "web", "env": "prod"}
    expect(tab_b.locator("#live-changes")).not_to_contain_text("No changes yet")
    expect(tab_b.locator("#live-changes table.changes tbody tr")).to_have_count(1)
    expect(tab_b.locator("#live-changes")).to_contain_text("Name")

    tab_b.click("button:has-text('Review changes')")
    review = tab_b.locator("table.changes")
    expect(review.locator("tbody tr")).to_have_count(1)
    expect(review).to_contain_text("web-2")
    tab_b.click("button:has-text('Save changes')")
    expect(tab_b.locator("#ops-tray .op .badge").first).to_have_text("done")
    expect(tab_b.locator("#image-detail h1")).to_contain_text("web-2")

    image = get_image(browser_seed.backend, image_id)
    assert (image.name, image.description, image.min_disk_size) == ("web-2", "Second", 16 * GiB)
    assert dict(image.labels) == {"team": "web", "env": "prod"}
