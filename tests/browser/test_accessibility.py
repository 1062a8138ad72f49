"""Every page, in light and dark mode, has no serious or critical axe-core finding; flows work by keyboard."""

import pytest

from tests.browser.axe import serious_findings
from tests.dashboard.fixtures import FOLDER

pytestmark = pytest.mark.browser


def _pages(seed) -> list[str]:
    older = seed.image("web-1", family="web-app", labels={"env": "prod"}, description="first")
    newest = seed.image("web-2", family="web-app", labels={"env": "prod", "team": "web"})
    seed.image("solo")
    snapshot = seed.backend.register_source(
        "snapshot", FOLDER, 1024**3, name="nightly", labels={"env": "prod"}
    )
    return [
        f"/f/{FOLDER}/disks/",
        f"/f/{FOLDER}/snapshots/",
        f"/f/{FOLDER}/images/new?source_kind=snapshot_id&source_id={snapshot}",
        f"/f/{FOLDER}/images/",
        f"/f/{FOLDER}/images/?family=Bad_Family",
        f"/f/{FOLDER}/images/?family=nothing-here",
        f"/f/{FOLDER}/images/new",
        f"/f/{FOLDER}/images/new?from={older}",
        f"/images/{newest}/",
        f"/images/{older}/",
        f"/images/{newest}/edit",
        f"/images/{newest}/delete",
        f"/f/{FOLDER}/families/",
        f"/f/{FOLDER}/families/web-app/",
        f"/f/{FOLDER}/operations/",
        f"/f/{FOLDER}/operations/?status=failed",
        "/images/imgdoesnotexist0000/",
        "/preferences/",
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_axe_finding_on_any_page(sign_in, site, browser_seed, scheme):
    paths = _pages(browser_seed)
    page = sign_in("editor", color_scheme=scheme)
    page.emulate_media(color_scheme=scheme)
    findings = []
    for path in paths:
        page.goto(site + path)
        findings += serious_findings(page)
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_axe_finding_on_the_sign_in_page(chromium, site, dashboard, scheme):
    context = chromium.new_context(color_scheme=scheme)
    page = context.new_page()
    page.emulate_media(color_scheme=scheme)
    page.goto(site + "/login/")
    findings = serious_findings(page)
    context.close()
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_axe_finding_with_a_chosen_theme_against_the_system(sign_in, site, browser_seed, theme):
    """A theme chosen in the preferences holds against the opposite system setting, saved views,
    the column chooser and the shortcut overlay open included."""
    older = browser_seed.image("web-1", family="web-app", labels={"env": "prod"})
    system = "dark" if theme == "light" else "light"
    page = sign_in("editor", color_scheme=system)
    page.emulate_media(color_scheme=system)
    page.goto(site + f"/f/{FOLDER}/images/")
    page.locator(".theme-switch").get_by_role("button", name=theme.capitalize()).click()
    page.fill("#view-name", "prod web")
    page.get_by_role("button", name="Save view").click()
    page.get_by_text("Columns", exact=True).click()
    findings = serious_findings(page)
    page.locator("#main").focus()
    page.keyboard.press("?")
    findings += serious_findings(page)
    for path in ("/preferences/", f"/images/{older}/", f"/f/{FOLDER}/families/web-app/"):
        page.goto(site + path)
        findings += serious_findings(page)
    assert findings == [], "\n".join(findings)
