"""Browser tests: the real app served on a local port, driven by Debian's Chromium through Playwright.

One Chromium for the whole session, a fresh context (cookies, viewport) per test. The server uses the
`app` fixture's app, so it shares the test's database and runs on every backend like other tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.web.data import cheap_password_hashing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def base_url(app, live_server) -> str:
    """The live server, with CSRF protection on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    return live_server


class Visit:
    """A browser context for one test, remembering every URL its pages requested."""

    def __init__(self, browser: Browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.requested: list[str] = []
        self.contexts: list[BrowserContext] = []

    def open(self, viewport: dict = DESKTOP, *, locale: str = "zh-CN", phone: bool = False):
        """A new page, as a Chinese-speaking officer's browser would open it."""
        context = self.browser.new_context(
            base_url=self.base_url, viewport=viewport, locale=locale, timezone_id="Asia/Shanghai",
            is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1,
        )
        context.set_default_timeout(10_000)
        # A page on a busy two-core machine at the end of the suite may take longer than a click's wait.
        context.set_default_navigation_timeout(30_000)
        context.on("request", lambda request: self.requested.append(request.url))
        self.contexts.append(context)
        return context.new_page()

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requested if not url.startswith(self.base_url + "/")]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def visit(browser, base_url) -> Iterator[Visit]:
    v = Visit(browser, base_url)
    yield v
    v.close()
