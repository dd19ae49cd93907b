"""Headless Chromium driven through Selenium, for the admin page's suite (test_44).

Debian's `chromium` and `chromium-driver` (scripts/install-deps.sh test): the driver is named
by path, so Selenium never looks for or downloads a browser of its own. The browser is told
not to reach any network service of its own (updates, sync, safe browsing).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import pytest

from .broker import REPO_ROOT

T = TypeVar("T")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
# Screenshots of each view: a directory git ignores (WHARF_E2E_ARTIFACTS moves it).
ARTIFACTS = Path(os.environ.get("WHARF_E2E_ARTIFACTS", REPO_ROOT / "Tests" / "EndToEnd" / "artifacts"))

# Records every Content-Security-Policy violation before any script of the page runs.
_CSP_RECORDER = """
window.__wharfCSP = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__wharfCSP.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


class Browser:
    """One headless Chromium with helpers for waiting on the page."""

    def __init__(self, profile: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        # Selenium Manager must not go looking for drivers on the network.
        os.environ.setdefault("SE_OFFLINE", "true")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for argument in (
            "--headless=new",
            "--no-sandbox",  # the tests may run as root
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,1000",
            "--lang=en-US",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--disable-features=Translate,OptimizationHints,MediaRouter",
            "--safebrowsing-disable-auto-update",
            "--metrics-recording-only",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _CSP_RECORDER})
        self.console: list[dict[str, Any]] = []

    def open(self, url: str) -> None:
        self.driver.get(url)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def text(self, selector: str) -> str:
        """The visible text of the first element matching `selector` ("" when there is none)."""
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)

    def wait(self, probe: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
        """Calls `probe` until it returns something truthy; fails with the page's text after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the page says:\n{self.text('body')[:3000]}")
            time.sleep(0.1)

    def wait_text(self, selector: str, predicate: Callable[[str], bool], timeout: float = 20.0, what: str = "") -> str:
        """The text of `selector` once `predicate` holds for it."""
        return self.wait(lambda: (t := self.text(selector)) and predicate(t) and t, timeout, what or f"{selector}")

    def logs(self) -> list[dict[str, Any]]:
        """The console entries since the last call (kept in `console` too)."""
        entries = self.driver.get_log("browser")
        self.console.extend(entries)
        return entries

    def csp_violations(self) -> list[str]:
        return list(self.js("return window.__wharfCSP || []"))

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def close(self) -> None:
        self.driver.quit()


def require_browser() -> None:
    """Fails (not skips) when the browser is missing: the test setup installs it."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run scripts/install-deps.sh test")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("selenium is not installed: run scripts/e2e-env.sh")


@pytest.fixture(scope="module")
def browser() -> Any:
    """One headless Chromium for the module's tests; its profile is removed afterwards."""
    require_browser()
    profile = Path(tempfile.mkdtemp(prefix="wharf-e2e-chromium-"))
    instance = Browser(profile)
    try:
        yield instance
    finally:
        instance.close()
        shutil.rmtree(profile, ignore_errors=True)
