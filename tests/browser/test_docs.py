"""Swagger UI's "Try it out" under session auth, and the three pages fully offline."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.factories import PASSWORD
from tests.namespace import ARTIFACTS
from tests.support.browser import BrowserPage, expect

pytestmark = pytest.mark.integration


def _try_it_out(web: BrowserPage, operation: str, body: str, **parameters: str) -> int:
    """Expand an operation, fill it in through "Try it out", execute; the live status."""
    block = web.page.locator(f"#operations-{operation}")
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    for name, value in parameters.items():
        block.locator(f"input[placeholder='{name}']").fill(value)
    block.locator("textarea.body-param__text").fill(body)
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text(re.compile(r"^\d{3}$"))
    return int(status.inner_text())


def test_swagger_ui_logs_in_then_puts_a_key_through_try_it_out(web: BrowserPage):
    username = f"swagger-user-{uuid.uuid4().hex[:6]}"
    web.live.create_user(username)
    page = web.page
    web.goto("/api/docs/")
    page.wait_for_selector("#operations-auth-auth_login")
    csrf_at_load = web.cookie("csrftoken")
    assert csrf_at_load, "the docs page sets the CSRF cookie"

    login = _try_it_out(
        web, "auth-auth_login", f'{{"username": "{username}", "password": "{PASSWORD}"}}'
    )
    assert login == 200
    csrf_after_login = web.cookie("csrftoken")
    assert csrf_after_login != csrf_at_load  # login rotated it: the page's token is stale

    with page.expect_request(lambda r: r.method == "PUT") as sent:
        put = _try_it_out(web, "keys-session_keys_put", '{"value": "from swagger"}', key="note")
    assert put == 201
    assert sent.value.headers["x-csrftoken"] == csrf_after_login
    assert web.api("GET", "/api/v1/session/keys/note/") == (
        200,
        {"key": "note", "value": "from swagger"},
    )
    assert web.api("GET", "/api/v1/auth/me/")[1]["username"] == username


@pytest.mark.parametrize(
    ("path", "loaded"),
    [
        ("/", "body[data-ready=true]"),
        ("/api/docs/", "#operations-auth-auth_login"),
        ("/api/redoc/", "[data-section-id]"),
    ],
)
def test_page_loads_every_asset_from_the_service(web: BrowserPage, path: str, loaded: str):
    failed: list[str] = []
    web.page.on("requestfailed", lambda request: failed.append(request.url))
    web.goto(path)
    web.page.wait_for_selector(loaded)
    web.page.wait_for_load_state("networkidle")

    urls = [request.url for request in web.requests]
    assert len(urls) >= 3, urls  # the page, its scripts and styles at least
    foreign = [url for url in urls if not web.live.is_local(url)]
    assert foreign == []
    assert failed == []


def test_console_fits_a_375_px_wide_phone(make_page):
    web = make_page(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    web.open_console()
    page = web.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # Every control is on screen horizontally: nothing to scroll sideways to.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, textarea, meter')]
            .filter((node) => node.offsetParent !== null)
            .filter((node) => { const box = node.getBoundingClientRect();
                                return box.left < 0 || box.right > 375; })
            .map((node) => node.id || node.textContent)"""
    )
    assert overflowing == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-375.png"), full_page=True)
