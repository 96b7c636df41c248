"""Every HTML page carries a strict Content-Security-Policy, and Chromium sees nothing on
them break it (``make_page`` fails a test on any violation: events and console alike)."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import PASSWORD
from tests.support.browser import BrowserPage
from tests.support.csp import HTML_PAGES, directives

pytestmark = pytest.mark.integration


def visit(web: BrowserPage, path: str, loaded: str) -> dict[str, list[str]]:
    """Open ``path``, wait until it has drawn ``loaded`` and gone quiet; its policy."""
    response = web.page.goto(web.live.base + path)
    assert response is not None and response.status == 200, path
    web.page.wait_for_selector(loaded)
    web.page.wait_for_load_state("networkidle")
    policy = response.headers["content-security-policy"]
    assert "unsafe-eval" not in policy
    assert web.csp_violations == [], web.csp_violations
    found = directives(policy)
    assert found["default-src"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"]
    return found


# What each HTML page shows once it has drawn itself.
LOADED = {
    "/": "body[data-ready=true]",
    "/api/docs/": "#operations-auth-auth_login",
    "/api/redoc/": "[data-section-id]",
    "/admin/login/": "#login-form",
}


@pytest.mark.parametrize("path", HTML_PAGES)
def test_each_html_page_keeps_to_a_strict_policy(web: BrowserPage, path: str):
    loaded = LOADED[path]
    found = visit(web, path, loaded)
    # Inline code runs only with the request's nonce, never because it is inline.
    assert "'unsafe-inline'" not in found["script-src"]


def test_redoc_search_runs_in_its_worker_within_the_policy(web: BrowserPage):
    visit(web, "/api/redoc/", "[data-section-id]")
    web.page.get_by_placeholder("Search...").press_sequentially("cancel")
    web.page.wait_for_selector("[data-role='search:results'] [data-item-id$='tasks_cancel']")


def test_the_admin_keeps_to_the_policy_when_signed_in(web: BrowserPage):
    username = f"csp-staff-{uuid.uuid4().hex[:6]}"
    web.live.create_user(username, staff=True)
    visit(web, "/admin/login/", "#login-form")
    web.page.fill("#id_username", username)
    web.page.fill("#id_password", PASSWORD)
    web.page.click("input[type=submit]")
    web.page.wait_for_selector("#site-name")
    for path, loaded in [
        ("/admin/", "#content-main"),
        ("/admin/sessions_api/usersession/", "#changelist"),
        ("/admin/auth/user/add/", "#user_form"),
        ("/admin/auth/user/?q=csp-staff", "#changelist"),
    ]:
        visit(web, path, loaded)
