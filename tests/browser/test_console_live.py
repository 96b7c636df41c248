"""The console's live updates in real Chromium: one events stream (``EventSource``) for
task progress and for a session ended elsewhere, and polling when the stream fails.

Each test records the page's requests (``BrowserPage.requests``) and counts them: the
stream, the task reads, the session reads.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.support.browser import BrowserPage, console_enqueue, console_log_in, expect

pytestmark = pytest.mark.integration

EVENTS = "/api/v1/events/"
SESSION = "/api/v1/session/"
LIVE_ON = "Live updates: on"
# What the console says while it polls: tasks at most a second apart, the session
# every 15 s.
POLLING = "Live updates unavailable: checking tasks every 1 s and the session every 15 s."

# Records each value a progress bar of the task list takes, in order (an attribute
# change; a bar without a value, i.e. running without a report yet, records null).
RECORD_BARS = """
() => {
  window.barValues = [];
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.target.tagName === "PROGRESS") {
        window.barValues.push(record.target.getAttribute("value"));
      }
    }
  }).observe(document.querySelector("#task-list"), {
    subtree: true, attributes: true, attributeFilter: ["value"],
  });
}
"""


def _is_stream(request: Any) -> bool:
    return urlparse(request.url).path == EVENTS


def _gets(web: BrowserPage, path: str, requests: list[Any] | None = None) -> list[Any]:
    """The page's GET requests of exactly ``path`` (no query), in order."""
    seen = web.requests if requests is None else requests
    return [r for r in seen if r.method == "GET" and urlparse(r.url).path == path]


def _add_key(web: BrowserPage, key: str) -> None:
    """Add a key through the console: the browser then has a session (and a stream)."""
    keys = web.page.locator("#keys")
    keys.get_by_label("Key", exact=True).fill(key)
    keys.get_by_label("Value (JSON)").fill("1")
    keys.get_by_role("button", name="Add key").click()
    expect(web.page.locator("#key-list li", has_text=key)).to_have_count(1)


def _enqueued(web: BrowserPage, name: str, **args: str) -> str:
    """Enqueue through the console's form; the new task's id."""

    def created(response: Any) -> bool:
        return response.request.method == "POST" and urlparse(response.url).path == "/api/v1/tasks/"

    with web.page.expect_response(created) as answer:
        console_enqueue(web, name, **args)
    assert answer.value.status == 202, answer.value.text()
    return answer.value.json()["id"]


def test_console_progress_comes_over_one_stream_without_polling(console: BrowserPage, tasks: None):
    page = console.page
    live = page.locator("#live-status")
    expect(live).to_have_text("Live updates: off until this browser has a session.")
    _add_key(console, "before-the-task")
    expect(live).to_have_text(LIVE_ON)

    page.evaluate(RECORD_BARS)
    task_id = _enqueued(console, "demo.sleep", seconds="4", steps="4")
    task = page.locator(f"#task-list .task[data-task-id='{task_id}']")
    expect(task.locator(".badge")).to_have_text("SUCCESS", timeout=30_000)
    expect(task.locator(".task-result")).to_contain_text('"slept": 4')

    # The bar went through every report in between, in order: 25, 50, 75, then 100.
    values = [float(v) for v in page.evaluate("window.barValues") if v is not None]
    steps = [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]
    assert [v for v in steps if 0 < v < 100] == [25, 50, 75], values
    assert steps[-1] == 100, values
    # No polling: the task was read once, when its wait joined the open stream (so that
    # nothing before that is missed), and every change after came over the stream.
    reads = _gets(console, f"/api/v1/tasks/{task_id}/")
    assert len(reads) <= 1, [r.url for r in reads]
    # One stream for the whole page: opened once the browser had a session, kept open
    # for the task, and still open (no reconnect).
    assert len(_gets(console, EVENTS)) == 1, [r.url for r in _gets(console, EVENTS)]
    expect(live).to_have_text(LIVE_ON)


def test_console_is_signed_out_within_2_s_when_another_browser_revokes_it(make_page):
    first, other = make_page(), make_page()
    username = f"lena-{uuid.uuid4().hex[:6]}"
    first.live.create_user(username)
    for web in (first, other):  # two browsers, the same user; `first` logs in first
        web.open_console()
        console_log_in(web, username)
    expect(first.page.locator("#live-status")).to_have_text(LIVE_ON)
    assert len(_gets(first, EVENTS)) == 1
    rows = other.page.locator("#user-sessions li")
    expect(rows).to_have_count(2)

    # A console that polled the session would show itself in this while.
    since = len(first.requests)
    first.page.wait_for_timeout(1500)
    revoke = other.page.get_by_role("button", name=re.compile("^Revoke session"))
    before_revoke = len(first.requests)
    revoke.click()

    page = first.page
    expect(page.locator("#who")).to_have_text("Not signed in", timeout=2000)
    expect(page.locator("#session-notice")).to_have_text(
        "This session was signed out from another device."
    )
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#session-user")).to_have_text("anonymous")
    # Nothing asked the server before the event; the event made the page re-read.
    quiet = first.requests[since:before_revoke]
    assert [r.url for r in quiet if urlparse(r.url).path.startswith("/api/")] == []
    assert _gets(first, SESSION, first.requests[before_revoke:])
    assert first.api("GET", "/api/v1/auth/me/")[0] == 403
    expect(rows).to_have_count(1)  # the other console shows its own list


@pytest.mark.parametrize("failure", ["503", "network error"])
def test_console_says_live_updates_failed_and_polls_the_task(make_page, tasks: None, failure: str):
    web = make_page()

    def fail(route: Any) -> None:
        if failure == "503":
            route.fulfill(
                status=503,
                content_type="application/problem+json",
                body='{"type": "about:blank", "title": "Unavailable.", "status": 503, '
                '"code": "unavailable", "detail": "The event store is unavailable."}',
            )
        else:
            route.abort()

    web.page.route(lambda url: urlparse(url).path == EVENTS, fail)
    web.open_console()
    _add_key(web, "no-stream")
    live = web.page.locator("#live-status")
    expect(live).to_have_text(POLLING)
    expect(live).to_have_attribute("data-state", "unavailable")
    assert _gets(web, EVENTS), "the stream was tried"

    task_id = _enqueued(web, "demo.sleep", seconds="2", steps="2")
    task = web.page.locator(f"#task-list .task[data-task-id='{task_id}']")
    expect(task.locator(".badge")).to_have_text("SUCCESS", timeout=30_000)
    expect(task.locator(".task-result")).to_contain_text('"slept": 2')
    polls = _gets(web, f"/api/v1/tasks/{task_id}/")
    assert len(polls) > 1, [r.url for r in polls]
    expect(live).to_have_text(POLLING)


def test_console_stays_signed_in_when_its_key_rotates_and_its_own_logout_is_no_news(
    console: BrowserPage,
):
    page = console.page
    username = f"mira-{uuid.uuid4().hex[:6]}"
    console.live.create_user(username)
    console_log_in(console, username)
    live = page.locator("#live-status")
    expect(live).to_have_text(LIVE_ON)
    assert len(_gets(console, EVENTS)) == 1

    # Cycle key: the stream ends with `rotated` and reconnects with the new cookie.
    with page.expect_request(_is_stream):
        page.get_by_role("button", name="Cycle key").click()
    assert len(_gets(console, EVENTS)) == 2
    expect(live).to_have_text(LIVE_ON)
    expect(page.locator("#who")).to_have_text(f"Signed in as {username}")
    expect(page.locator("#session-notice")).to_be_hidden()
    assert console.api("GET", "/api/v1/auth/me/")[0] == 200

    # Its own logout comes over the stream too, and is no news to this page.
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#who")).to_have_text("Not signed in")
    expect(live).to_have_text("Live updates: off until this browser has a session.")
    expect(page.locator("#session-notice")).to_be_hidden()
