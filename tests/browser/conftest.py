"""Real-browser tests: Debian's Chromium driven by Playwright against a live service.

The service runs as in production (tests/support/live.py): gunicorn on a free port over
a migrated temporary SQLite database, plus (for the task tests) a Celery worker on the
real broker, reading its own queue. Without Chromium or Playwright the tests skip, and
under CI=true they fail instead (tests/support/browser.py).

Screenshots go to ``test-artifacts/`` at the repository root, the server and worker
logs to the run's log folder (``tests.namespace.LOG_DIR``) with its other logs; the
session cookies, CSRF tokens and passwords the browsers handled are noted for the log
check at the end of the run (tests/conftest.py). The service's database lives as long
as the package, so every user a test creates gets a name of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.servers import HttpSession
from tests.support.browser import BrowserPage, chromium, open_page
from tests.support.live import LiveService, live_service, live_worker

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """gunicorn over a fresh SQLite database, for every test in this package."""
    with live_service(tmp_path_factory.mktemp("browser"), purpose="browser") as service:
        yield service


@pytest.fixture(scope="package")
def worker(live: LiveService, rabbitmq_server: None) -> Iterator[None]:
    """A Celery worker consuming only this package's queue."""
    with live_worker(live, concurrency=1):
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
    with chromium() as launched:
        yield launched


@pytest.fixture
def make_page(browser: Browser, live: LiveService) -> Iterator[Any]:
    """Open pages in fresh browser contexts (separate cookie jars: separate users).

    After the test: no page may have sent a request to another host, no script may
    have thrown, and nothing may have broken the Content-Security-Policy.
    """
    opened: list[BrowserPage] = []

    def build(**context_options: Any) -> BrowserPage:
        item = open_page(browser, live, **context_options)
        opened.append(item)
        return item

    yield build
    for item in opened:
        item.close()
    for item in opened:
        item.assert_clean()


@pytest.fixture
def web(make_page: Any) -> BrowserPage:
    """One page at desktop size."""
    return make_page()


@pytest.fixture
def console(web: BrowserPage) -> BrowserPage:
    """The console at /, loaded."""
    web.open_console()
    return web
