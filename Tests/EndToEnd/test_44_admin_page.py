"""44 The admin page in headless Chromium, against wharfd with a Modbus simulator, a CoAP sensor, a
plugin and an uplink to a Mosquitto that the tests stop and start: what the page shows, that it
loads without console errors or Content-Security-Policy violations, that the keyboard reaches
every view, that it fits a phone, and its weight. Screenshots of each view go to
Tests/EndToEnd/artifacts/ (git ignores it)."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from wharf_e2e.admin import get, wait_until
from wharf_e2e.admin_page import Site, start_site
from wharf_e2e.broker import REPO_ROOT
from wharf_e2e.browser import Browser, browser  # noqa: F401 - fixture
from wharf_e2e.coap_aio import coap_device, coap_loop  # noqa: F401 - fixtures
from wharf_e2e.modbus_fixtures import modbus_devices  # noqa: F401 - fixture

pytestmark = [pytest.mark.wharf_only(reason="the admin page is Wharf's"), pytest.mark.timeout(180)]

VIEWS = {
    "overview": "Overview",
    "devices": "Devices",
    "uplink": "Uplink and queue",
    "config": "Configuration",
    "logs": "Logs",
}
# Endpoints a wharfd may not have yet: the page asks, and works without them. A 404 for one of
# these is the only console error allowed.
OPTIONAL = ("/api/v1/logs", "/api/v1/history", "/api/v1/events", "/api/v1/session")
BUDGET = 200 * 1024


@pytest.fixture
def site(tmp_path: Path, gateway_factory, cloud_factory, modbus_devices, coap_device) -> Site:  # noqa: ANN001, F811
    return start_site(tmp_path, gateway_factory, cloud_factory, modbus_devices, coap_device)


def show(browser: Browser, site: Site, view: str) -> None:  # noqa: F811
    """Opens `view` (from the address bar, as a bookmark would) and waits for its title and data."""
    browser.open(f"{site.url}/#/{view}")
    browser.wait_text("#view-title", lambda text: text == VIEWS[view], what=f"the {view} view")
    browser.wait(lambda: "Waiting for the gateway" not in browser.text("#view") and "Reading" not in browser.text("#view"), what=f"{view} data")


def errors(browser: Browser) -> list[str]:  # noqa: F811
    """Console errors, other than the 404s of optional endpoints."""
    bad = []
    for entry in browser.logs():
        message = entry.get("message", "")
        if entry.get("level") != "SEVERE":
            continue
        if any(path in message for path in OPTIONAL) and "404" in message:
            continue
        bad.append(message)
    return bad


def test_the_page_shows_the_devices_and_their_state(browser: Browser, site: Site) -> None:  # noqa: F811
    show(browser, site, "devices")
    meter = '.adapter[data-name="plant"] tr[data-device="meter"]'
    pump = '.adapter[data-name="plant"] tr[data-device="pump"]'
    # The meter answers and its points and published values show; the pump does not answer.
    row = browser.wait_text(meter, lambda text: "Answering" in text and re.search(r"[1-9][\d,]* values? published", text) is not None, what="the meter answering")
    assert "voltage" in row and "energy" in row, row
    browser.wait_text(pump, lambda text: "Not answering" in text, what="the pump offline")
    browser.wait_text(pump, lambda text: "could not connect" in text or "no answer in time" in text, what="the pump's errors by kind")
    adapter = browser.text('.adapter[data-name="plant"] h3')
    assert "Modbus" in adapter and "Partly working" in adapter, adapter
    sensors = browser.text('.adapter[data-name="sensors"]')
    assert "CoAP" in sensors and "thermo" in sensors, sensors
    # When the status reports devices (adapters[].devices), each value shows with its age.
    status = site.status()
    plant = next(a for a in status["adapters"] if a["name"] == "plant")
    if "devices" in plant:
        browser.wait_text(meter, lambda text: "231.5" in text and "12,345" in text, what="the meter's values")
    # The summary at the top names the adapter that is not fully working.
    browser.wait_text("#summary", lambda text: "plant (partly working)" in text, what="the summary")
    browser.screenshot("devices")


def test_the_uplink_goes_down_the_queue_grows_then_drains(browser: Browser, site: Site) -> None:  # noqa: F811
    show(browser, site, "uplink")
    browser.wait_text("#uplink-summary", lambda text: text.startswith("The cloud link is up"), what="the link up")
    browser.wait_text("#uplink-state", lambda text: text == "Connected")

    site.cloud.stop()
    summary = browser.wait_text("#uplink-summary", lambda text: text.startswith("The cloud link is down since"), what="the link down")
    assert re.match(r"The cloud link is down since \d\d:\d\d", summary), summary
    assert "Connected" not in browser.text("#uplink-state")
    # Messages for the cloud pile up in the queue, and the page says how many and how old.
    publisher = site.gateway.client()
    publisher.connect()
    try:
        for index in range(120):
            publisher.publish(f"devices/test/{index % 4}", f"m{index}".encode(), 1)
    finally:
        publisher.close()
    wait_until(lambda: (site.status()["queue"]["depth"] >= 120), 20, "120 records queued")
    text = browser.wait_text(
        "#uplink-summary",
        lambda text: (m := re.search(r"; ([\d,]+) messages are waiting, the oldest from \d\d:\d\d", text)) is not None and int(m.group(1).replace(",", "")) >= 120,
        what="the waiting messages",
    )
    depth = int(browser.text("#queue-depth").replace(",", ""))
    assert depth >= 120, (depth, text)
    assert "The cloud link is down since" in browser.text("#summary")
    browser.screenshot("uplink-down")

    site.cloud.start()
    browser.wait_text("#uplink-state", lambda text: text == "Connected", timeout=30, what="the link up again")
    browser.wait_text("#queue-depth", lambda text: text == "0", timeout=30, what="the queue drained")
    browser.wait_text("#uplink-summary", lambda text: text.startswith("The cloud link is up") and "no messages are waiting" in text)
    # By now the page has measured enough to draw the queue's depth.
    label = browser.wait(lambda: browser.js("const svg = document.querySelector('.chart svg'); return svg && svg.getAttribute('aria-label')"), what="the depth chart")
    assert label.startswith("Messages waiting, over the last"), label
    browser.screenshot("uplink-drained")


def test_the_page_loads_without_console_errors_or_csp_violations(browser: Browser, site: Site) -> None:  # noqa: F811
    browser.logs()  # what earlier tests left
    for view in VIEWS:
        show(browser, site, view)
        # Let the view's own requests (metrics, configuration, log lines) finish.
        browser.wait(lambda: browser.js("return document.readyState") == "complete")
        browser.js("return new Promise((done) => setTimeout(done, 1500))")
        assert browser.csp_violations() == [], view
        assert errors(browser) == [], view
        browser.screenshot(view)
    # A wharfd without the log ring says so on the logs view instead of showing an empty table.
    if get(site.admin_port, "/api/v1/logs").status == 404:
        assert "does not keep its warnings" in browser.text("#logs-absent")
    # The checks see a violation when there is one: a style attribute set from outside is refused.
    browser.js("document.body.setAttribute('style', 'color: red')")
    browser.wait(lambda: any("style-src" in v for v in browser.csp_violations()), what="the control violation")
    assert any("Content Security Policy" in message for message in errors(browser))


def test_the_keyboard_reaches_every_view(browser: Browser, site: Site) -> None:  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.open(f"{site.url}/#/overview")
    browser.wait_text("#view-title", lambda text: text == "Overview")

    def focused() -> dict:
        return browser.js(
            "const e = document.activeElement; const style = getComputedStyle(e);"
            "return {tag: e.tagName, id: e.id, view: e.dataset.view || null, text: e.innerText,"
            " outline: style.outlineStyle, href: e.getAttribute('href')};"
        )

    # The first Tab lands on the skip link, which shows while it has the focus.
    ActionChains(browser.driver).send_keys(Keys.TAB).perform()
    first = focused()
    assert first["href"] == "#main" and first["outline"] != "none", first

    for view, title in VIEWS.items():
        browser.js("document.querySelector('a.skip').focus()")
        for _ in range(len(VIEWS) + 2):
            ActionChains(browser.driver).send_keys(Keys.TAB).perform()
            if focused()["view"] == view:
                break
        link = focused()
        assert link["view"] == view, f"Tab never reached the link to {view}: {link}"
        assert link["outline"] != "none", f"no focus outline on the link to {view}"
        ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
        browser.wait(lambda: browser.js("return location.hash") == f"#/{view}", what=f"#/{view}")
        browser.wait_text("#view-title", lambda text: text == title)
        # The view's title takes the focus, so that a screen reader tells where the person is.
        browser.wait(lambda: focused()["id"] == "view-title", what=f"the focus on the {view} title")
        current = browser.js("return document.querySelector('nav a[aria-current=page]').dataset.view")
        assert current == view


def test_a_quarantined_plugin_is_restarted_only_after_confirming(browser: Browser, site: Site) -> None:  # noqa: F811
    # The plugin crashes while the file exists, and is quarantined after its restarts.
    site.fail_file.touch()
    wait_until(
        lambda: next(a for a in site.status()["adapters"] if a["name"] == "flaky")["plugin"]["state"] == "quarantined",
        30,
        "the plugin quarantined",
    )
    show(browser, site, "devices")
    button = '.adapter[data-name="flaky"] button.action'
    browser.wait(lambda: browser.js("return !!document.querySelector(arguments[0])", button), what="the restart button")
    # Cancel: nothing happens.
    browser.js("document.querySelector(arguments[0]).click()", button)
    assert browser.js("return document.getElementById('restart-dialog').open")
    assert "flaky" in browser.text("#restart-dialog h2")
    browser.screenshot("restart-dialog")
    browser.js("document.querySelector('#restart-dialog [value=cancel]').click()")
    browser.js("return new Promise((done) => setTimeout(done, 1000))")
    assert next(a for a in site.status()["adapters"] if a["name"] == "flaky")["plugin"]["state"] == "quarantined"
    # Confirm: the plugin is started again.
    site.fail_file.unlink()
    browser.js("document.querySelector(arguments[0]).click()", button)
    browser.js("document.querySelector('#restart-dialog [value=restart]').click()")
    browser.wait_text("#notice", lambda text: "restarting plugin flaky" in text, what="the notice")
    wait_until(
        lambda: next(a for a in site.status()["adapters"] if a["name"] == "flaky")["plugin"]["state"] == "running",
        30,
        "the plugin running",
    )
    browser.wait_text('.adapter[data-name="flaky"]', lambda text: "Running" in text, what="the plugin running on the page")
    assert not browser.js("return !!document.querySelector(arguments[0])", button)


def test_the_page_fits_a_phone(browser: Browser, site: Site) -> None:  # noqa: F811
    browser.driver.set_window_size(390, 844)
    try:
        for view in VIEWS:
            show(browser, site, view)
            width = browser.js("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"{view} scrolls sideways on a phone: {width}"
        show(browser, site, "overview")
        browser.screenshot("overview-phone")
    finally:
        browser.driver.set_window_size(1280, 1000)


def test_the_page_weighs_less_than_200_kb(browser: Browser, site: Site) -> None:  # noqa: F811
    # Every file embedded (the web/ folder, which the unit tests hold equal to the binary's copy).
    files = [path for path in (REPO_ROOT / "web").rglob("*") if path.is_file()]
    embedded = sum(path.stat().st_size for path in files)
    assert 0 < embedded < BUDGET, f"the page's files weigh {embedded} bytes"
    # What a browser loads: the document and each file it asked for, as served.
    show(browser, site, "overview")
    loaded = browser.js("return performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)")
    assets = sorted({path for path in loaded if path.startswith("/ui/")})
    assert "/ui/main.js" in assets and "/ui/style.css" in assets, assets
    served = 0
    for path in ["/", *assets]:
        with urllib.request.urlopen(f"{site.url}{path}", timeout=10) as response:
            served += len(response.read())
    assert served <= embedded, (served, embedded)
    assert {path.removeprefix("/ui/") for path in assets} <= {p.relative_to(REPO_ROOT / "web").as_posix() for p in files}
