"""A real browser on a live service: Debian's Chromium driven by Playwright.

Chromium comes from Debian (`apt-get install chromium`); Playwright's own browser
download is not used. Playwright is imported here when it is installed, so that
collection works without it (the fixtures in tests/browser/conftest.py then skip, or
fail under CI=true). Screenshots go to ``tests.namespace.ARTIFACTS``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.factories import PASSWORD
from tests.servers import remember_secret
from tests.support.clients import need
from tests.support.live import LiveService

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - exercised only where Playwright is missing
    expect = None
    sync_playwright = None

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the background-networking switches Chromium keeps dialling Google services,
# which this closed network refuses; none of them is needed for a test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The time zone the browser believes it is in: not UTC, so local-time conversions show.
BROWSER_TIMEZONE = "America/Sao_Paulo"
# How long Playwright waits for a page, a selector or an expectation.
TIMEOUT_MS = 15_000

# Runs in every document and frame before the page's own scripts: each
# securitypolicyviolation event goes to the test (the binding survives navigations).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.documentURI} (${event.sourceFile || "?"}:${event.lineNumber})`);
});
"""


@dataclass
class BrowserPage:
    """A page in a fresh browser context, with every request it made, every script
    error, and every Content-Security-Policy violation (as events and as Chromium's
    console messages, which also cover workers)."""

    page: Page
    live: LiveService
    requests: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def note_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"console: {message.text}")

    def note_violation(self, violation: str) -> None:
        self.csp_violations.append(violation)

    def goto(self, path: str) -> None:
        self.page.goto(self.live.base + path)

    def open_console(self) -> None:
        self.goto("/")
        # console.js marks the body once its first load (session, keys, tasks) is done.
        self.page.wait_for_selector("body[data-ready=true]")

    def cookie(self, name: str) -> str | None:
        for item in self.page.context.cookies(self.live.base):
            if item["name"] == name:
                return item["value"]
        return None

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the API with this browser's cookies (and its CSRF cookie as the header)."""
        headers = {"X-CSRFToken": self.cookie("csrftoken") or ""}
        response = self.page.request.fetch(
            self.live.base + path, method=method, headers=headers, data=body
        )
        text = response.text()
        return response.status, (response.json() if text else None)

    def close(self) -> None:
        """Close its context, noting first every cookie and CSRF token it handled for
        the log check at the end of the run."""
        for cookie in self.page.context.cookies():
            remember_secret(cookie["value"])
        for request in self.requests:
            remember_secret(request.headers.get("x-csrftoken"))
        self.page.context.close()

    def assert_clean(self) -> None:
        """No request to another host, no uncaught script error, no CSP violation."""
        foreign = [request.url for request in self.requests if not self.live.is_local(request.url)]
        assert not foreign, f"requests to other hosts: {foreign}"
        assert not self.errors, f"uncaught script errors: {self.errors}"
        assert not self.csp_violations, f"Content-Security-Policy violations: {self.csp_violations}"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (skips without it or Playwright; fails under CI)."""
    need(sync_playwright is not None, "Playwright for Python (pip install -r requirements-dev.txt)")
    need(
        CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
        f"Chromium at {CHROMIUM} (apt-get install chromium)",
    )
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, live: LiveService, **context_options: Any) -> BrowserPage:
    """A page of ``live`` in a new context (its own cookie jar), at desktop size, in
    ``BROWSER_TIMEZONE``, that records its requests, errors and CSP violations."""
    options = {
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-US",
        "timezone_id": BROWSER_TIMEZONE,
        **context_options,
    }
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    opened = BrowserPage(page=page, live=live)
    page.on("request", lambda request: opened.requests.append(request))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("console", opened.note_console)
    context.expose_function("reportCspViolation", opened.note_violation)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    return opened


def console_log_in(web: BrowserPage, username: str) -> None:
    """Log in through the console's form (the account's password is the factories')."""
    login = web.page.locator("#login-form")
    login.get_by_label("Username").fill(username)
    login.get_by_label("Password").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    expect(web.page.locator("#who")).to_have_text(f"Signed in as {username}")


def console_enqueue(web: BrowserPage, name: str, **args: str) -> None:
    """Enqueue a task through the console's form, its arguments by field name."""
    form = web.page.locator("#task-form")
    form.get_by_label("Task type").select_option(name)
    for arg, value in args.items():
        form.locator(f"#arg-{arg}").fill(value)
    form.get_by_role("button", name="Enqueue").click()
