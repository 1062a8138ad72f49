"""A day at the console: phone width, live filters, outages, live status for viewers, keyboard only."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.dashboard.fixtures import FOLDER

pytestmark = pytest.mark.browser

# Every visible control whose centre is not hit-testable (something else is on top of it), and the
# page's overflow past the viewport's width.
_LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'));
    problems.push(`${location.pathname} is ${document.documentElement.scrollWidth}px wide: ${wide.slice(-3).map(e => e.outerHTML.slice(0, 60)).join(' | ')}`);
  }
  for (const el of document.querySelectorAll('main a, main button, main input, main select, main textarea, main summary')) {
    if (el.type === 'hidden' || el.closest('[hidden]') || el.closest('.table-wrap')) continue;
    el.scrollIntoView({block: 'center', inline: 'nearest'});
    const r = el.getClientRects()[0];  // an inline link that wraps: its first line box
    if (!r) continue;
    if (r.width === 0 || r.height === 0) continue;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || x > width) { problems.push(`${el.outerHTML.slice(0, 80)} is outside the page`); continue; }
    const hit = document.elementFromPoint(x, y);
    if (!hit || !(hit === el || el.contains(hit) || (el.labels && [...el.labels].some(l => l.contains(hit)))))
      problems.push(`${el.outerHTML.slice(0, 80)} is covered by ${hit ? hit.outerHTML.slice(0, 60) : 'nothing'}`);
  }
  return problems;
}"""


def _layout(page) -> list[str]:
    return page.evaluate(_LAYOUT_PROBLEMS)


@pytest.mark.parametrize("width", [390, 1366])
def test_no_control_is_covered_or_off_screen_in_the_main_flows(sign_in, site, browser_seed, width):
    for i in range(3):
        browser_seed.image(f"web-{i}", family="web-app", labels={"env": "prod"})
    browser_seed.image("a" * 63, family="web-app")
    page = sign_in("editor", width=width, height=844 if width == 390 else 768)
    page.goto(f"{site}/f/{FOLDER}/images/new")
    page.fill("#id_source_id", browser_seed.disk)
    page.fill("#id_name", "phone-image")
    assert _layout(page) == []
    page.click("button:has-text('Create image')")
    expect(page.locator("#ops-tray .op .badge").first).to_have_text("done")
    problems = _layout(page)  # the image page, with the tray showing the finished operation
    page.goto(f"{site}/f/{FOLDER}/images/")
    problems += _layout(page)
    page.click("#results tbody a >> text=phone-image")
    page.click("text=Edit")
    problems += _layout(page)
    page.goto(page.url.replace("/edit", "/delete"))
    problems += _layout(page)
    page.goto(f"{site}/f/{FOLDER}/families/")
    problems += _layout(page)
    page.goto(f"{site}/f/{FOLDER}/families/web-app/")
    problems += _layout(page)
    assert problems == [], "\n".join(problems)


def test_a_too_long_name_is_refused_with_the_rule_not_cut(sign_in, site, browser_seed):
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/new")
    page.fill("#id_source_id", browser_seed.disk)
    page.fill("#id_name", "b" * 80)
    assert page.input_value("#id_name") == "b" * 80
    page.click("button:has-text('Create image')")
    assert page.evaluate("() => document.querySelector('#id_name').validity.valid") is False
    expect(page).to_have_url(re.compile(r"/images/new$"))


def test_an_invalid_live_filter_shows_the_rule_at_once(sign_in, site, browser_seed):
    browser_seed.image("web-1", family="web-app")
    page = sign_in("viewer")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.fill("#f-family", "Debian_12!")
    expect(page.locator("#err-family")).to_contain_text("Family must")
    expect(page.locator("#f-family")).to_have_attribute("aria-invalid", "true")


def test_an_outage_neither_moves_the_address_bar_nor_leaves_a_stale_banner(
    sign_in, site, browser_seed, settings, dashboard
):
    browser_seed.image("web-1")
    page = sign_in("viewer")
    page.goto(f"{site}/f/{FOLDER}/images/")
    url = page.url
    settings.IMAGESERVICE_BACKEND_ADDRESS = "127.0.0.1:9"
    settings.IMAGESERVICE_BACKEND_TIMEOUT = 1
    page.click("#results thead a >> text=Name")
    expect(page.locator("#alerts [data-backend-alert]")).to_be_visible()
    assert page.url == url
    settings.IMAGESERVICE_BACKEND_ADDRESS = dashboard.address
    page.click("#results thead a >> text=Name")
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(page.locator("#alerts [data-backend-alert]")).to_have_count(0)


@pytest.fixture
def stalled_import(settings):
    """A local HTTP server that answers nothing until released: keeps an import in CREATING."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            release.wait(30)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = [host]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = True
    yield f"http://{host}/disk.raw"
    release.set()
    server.shutdown()
    server.server_close()


def test_a_viewer_sees_another_persons_import_end_without_reloading(
    sign_in, site, browser_seed, stalled_import
):
    from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2
    from images.api.gen.yandex.cloud.compute.v1.image_service_pb2 import CreateImageMetadata
    from images.api.gen.yandex.cloud.operation import operation_service_pb2

    browser_seed.image("web-2")
    api = browser_seed.api
    operation = api.call(
        api.images.Create,
        image_service_pb2.CreateImageRequest(folder_id=FOLDER, name="slow", uri=stalled_import),
    )
    metadata = CreateImageMetadata()
    operation.metadata.Unpack(metadata)
    page = sign_in("viewer")
    page.goto(f"{site}/images/{metadata.image_id}/")
    expect(page.locator("#image-detail h1 .badge")).to_have_text("creating")
    list_page = page.context.new_page()
    list_page.goto(f"{site}/f/{FOLDER}/images/")
    expect(list_page.locator("#results tr", has_text="slow").locator(".badge")).to_have_text("creating")
    api.call(api.operations.Cancel, operation_service_pb2.CancelOperationRequest(operation_id=operation.id))
    browser_seed.backend.wait_operation(operation.id)
    expect(page.locator("#image-detail")).not_to_contain_text("creating", timeout=15_000)
    expect(list_page.locator("#results")).not_to_contain_text("slow", timeout=15_000)
    expect(list_page.locator("#results")).to_contain_text("web-2")


def test_keyboard_only_filter_open_and_edit(sign_in, site, browser_seed):
    browser_seed.image("web-1", family="web-app")
    page = sign_in("editor")
    page.goto(f"{site}/f/{FOLDER}/images/")
    page.keyboard.press("/")
    page.keyboard.type("web-1")
    expect(page).to_have_url(re.compile(r"name=web-1"))
    link = page.locator("#results tbody a >> text=web-1")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "web-1":
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("web-1")
    page.locator("a:has-text('Edit')").focus()
    page.keyboard.press("Enter")
    page.locator("#id_description").focus()
    page.keyboard.type("typed by keyboard")
