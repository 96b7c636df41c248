"""Real-browser tests: Debian's Chromium driven by Playwright against a live service.

The service runs as in production: gunicorn on a free port over a migrated temporary
SQLite database, plus (for the task tests) a Celery worker on the real broker, reading
its own queue. Chromium comes from Debian (`apt-get install chromium`); Playwright's
own browser download is not used. Without Chromium or Playwright the tests skip, and
under CI=true they fail instead.

Screenshots go to ``test-artifacts/`` at the repository root, the server and worker
logs to the run's log folder (``tests.namespace.LOG_DIR``) with its other logs; the
session cookies, CSRF tokens and passwords the browsers handled are noted for the log
check at the end of the run (tests/conftest.py). The service's database lives as long
as the package, so every user a test creates gets a name of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.support import expect, sync_playwright
from tests.factories import PASSWORD
from tests.namespace import queue_name
from tests.servers import (
    ROOT,
    HttpSession,
    celery_worker,
    gunicorn,
    manage,
    remember_secret,
    sqlite_service_env,
)
from tests.support.clients import need
from tests.support.workers import deleting_queue

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ARTIFACTS = ROOT / "test-artifacts"
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


@dataclass
class LiveService:
    """The running service: its base URL, environment and Celery queue."""

    base: str
    env: dict[str, str]
    queue: str

    def create_user(self, username: str, password: str = PASSWORD, *, staff: bool = False) -> None:
        remember_secret(password)
        flags = ", is_staff=True, is_superuser=True" if staff else ""
        code = (
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user({username!r}, password={password!r}{flags})"
        )
        manage("shell", "-c", code, env=self.env)

    def is_local(self, url: str) -> bool:
        """True for this service's URLs and the page's own inline data."""
        return url.startswith((f"{self.base}/", "data:", "blob:")) or url == self.base


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


def _broker_reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """gunicorn over a fresh SQLite database, for every test in this package."""
    queue = queue_name("browser")
    env = sqlite_service_env(tmp_path_factory.mktemp("browser"), queue=queue)
    with gunicorn(env) as base:
        yield LiveService(base=base, env=env, queue=queue)


@pytest.fixture(scope="package")
def worker(live: LiveService) -> Iterator[None]:
    """A Celery worker consuming only this test run's queue."""
    broker = live.env["CELERY_BROKER_URL"]
    need(_broker_reachable(broker), f"The Celery broker at {broker}")
    with (
        deleting_queue(live.queue, broker, best_effort=True),
        celery_worker(live.env, queue=live.queue, name=live.queue, concurrency=1),
    ):
        yield


@pytest.fixture
def tasks(live: LiveService, request: pytest.FixtureRequest) -> None:
    """The tasks API with a worker (the API is part of the service: a 404 here fails)."""
    status, _, _ = HttpSession(live.base).request("GET", "/api/v1/tasks/types/")
    assert status == 200, f"GET /api/v1/tasks/types/ answered {status}"
    request.getfixturevalue("worker")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless. Module-scoped: Playwright's sync API keeps an event
    loop running in this thread, and Django refuses database calls from the other
    test packages while one is."""
    need(sync_playwright is not None, "Playwright for Python (pip install -r requirements-dev.txt)")
    need(
        CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
        f"Chromium at {CHROMIUM} (apt-get install chromium)",
    )
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open_page(browser: Browser, live: LiveService, **context_options: Any) -> BrowserPage:
    options = {
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-US",
        "timezone_id": BROWSER_TIMEZONE,
        **context_options,
    }
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    opened = BrowserPage(page=page, live=live)
    page.on("request", lambda request: opened.requests.append(request))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("console", opened.note_console)
    context.expose_function("reportCspViolation", opened.note_violation)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    return opened


@pytest.fixture
def make_page(browser: Browser, live: LiveService) -> Iterator[Any]:
    """Open pages in fresh browser contexts (separate cookie jars: separate users).

    After the test: no page may have sent a request to another host, no script may
    have thrown, and nothing may have broken the Content-Security-Policy.
    """
    opened: list[BrowserPage] = []

    def build(**context_options: Any) -> BrowserPage:
        item = _open_page(browser, live, **context_options)
        opened.append(item)
        return item

    yield build
    for item in opened:
        for cookie in item.page.context.cookies():
            remember_secret(cookie["value"])
        for request in item.requests:
            remember_secret(request.headers.get("x-csrftoken"))
        item.page.context.close()
    for item in opened:
        foreign = [request.url for request in item.requests if not live.is_local(request.url)]
        assert not foreign, f"requests to other hosts: {foreign}"
        assert not item.errors, f"uncaught script errors: {item.errors}"
        assert not item.csp_violations, f"Content-Security-Policy violations: {item.csp_violations}"


@pytest.fixture
def web(make_page: Any) -> BrowserPage:
    """One page at desktop size."""
    return make_page()


@pytest.fixture
def console(web: BrowserPage) -> BrowserPage:
    """The console at /, loaded."""
    web.open_console()
    return web
