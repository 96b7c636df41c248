"""The console at / in real Chromium: keys, expiry, account and tasks through the API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import PASSWORD
from tests.namespace import ARTIFACTS
from tests.servers import remember_secret
from tests.support.browser import (
    BROWSER_TIMEZONE,
    BrowserPage,
    console_enqueue,
    console_log_in,
    expect,
)

pytestmark = pytest.mark.integration


def _seconds(clock: str) -> int:
    """'00:00:59' (or '13 d 23:59:58') -> seconds."""
    days = 0
    if " d " in clock:
        head, clock = clock.split(" d ")
        days = int(head)
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _unsafe_calls(web: BrowserPage, path: str) -> list[str]:
    return [r.method for r in web.requests if r.url.endswith(path) and r.method != "GET"]


def _call(method: str, path_end: str):
    """A predicate for page.expect_request: this method, on a URL ending so."""
    return lambda request: request.method == method and request.url.endswith(path_end)


# --- Keys --------------------------------------------------------------------------


def test_console_adds_edits_and_deletes_a_key(console: BrowserPage):
    page = console.page
    keys = page.locator("#keys")
    keys.get_by_label("Key", exact=True).fill("colour")
    keys.get_by_label("Value (JSON)").fill('{"name": "blue"}')
    keys.get_by_role("button", name="Add key").click()

    row = page.locator("#key-list li", has_text="colour")
    expect(row).to_contain_text('{"name":"blue"}')
    expect(page.locator("#session-keys")).to_have_text("1 of 256")
    assert console.api("GET", "/api/v1/session/keys/colour/") == (
        200,
        {"key": "colour", "value": {"name": "blue"}},
    )

    keys.get_by_role("button", name="Edit key colour").click()
    expect(keys.get_by_label("Key", exact=True)).to_have_value("colour")
    keys.get_by_label("Value (JSON)").fill('["blue", "green"]')
    keys.get_by_role("button", name="Save").click()
    expect(row).to_contain_text('["blue","green"]')
    assert console.api("GET", "/api/v1/session/keys/colour/")[1]["value"] == ["blue", "green"]

    keys.get_by_role("button", name="Delete key colour").click()
    expect(row).to_have_count(0)
    expect(page.locator("#keys-empty")).to_be_visible()
    expect(page.locator("#session-keys")).to_have_text("0 of 256")
    assert console.api("GET", "/api/v1/session/keys/colour/")[0] == 404


def test_console_bad_json_value_shows_a_field_error_and_sends_nothing(console: BrowserPage):
    keys = console.page.locator("#keys")
    keys.get_by_label("Key", exact=True).fill("settings")
    value = keys.get_by_label("Value (JSON)")
    value.fill("{'single': 'quotes'}")
    keys.get_by_role("button", name="Add key").click()

    expect(console.page.locator("#key-value-error")).to_contain_text("not valid JSON")
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(value).to_be_focused()
    expect(keys.locator("form .problem")).to_contain_text("nothing was sent")
    assert _unsafe_calls(console, "/api/v1/session/keys/") == []


def test_console_shows_the_servers_problem_detail_next_to_the_field(console: BrowserPage):
    page = console.page
    assert console.api("POST", "/api/v1/session/keys/", {"key": "twice", "value": 0})[0] == 201
    keys = page.locator("#keys")
    keys.get_by_label("Key", exact=True).fill("twice")
    keys.get_by_label("Value (JSON)").fill("1")
    with page.expect_response(lambda r: r.url.endswith("/session/keys/")) as answer:
        keys.get_by_role("button", name="Add key").click()

    # A 409 key_exists: the problem's detail next to the key field, not a status code.
    assert answer.value.status == 409
    detail = answer.value.json()["detail"]
    expect(page.locator("#key-name-error")).to_have_text(detail)
    expect(keys.locator("form .problem")).to_have_text(detail)
    expect(keys.get_by_label("Key", exact=True)).to_have_attribute("aria-invalid", "true")


def test_console_refuses_a_bad_key_name_by_the_servers_rule_next_to_the_input(
    console: BrowserPage,
):
    keys = console.page.locator("#keys")
    name = keys.get_by_label("Key", exact=True)
    name.fill("two words")
    keys.get_by_label("Value (JSON)").fill("1")
    keys.get_by_role("button", name="Add key").click()

    expect(console.page.locator("#key-name-error")).to_contain_text("Use only letters, digits")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    assert _unsafe_calls(console, "/api/v1/session/keys/") == []


def test_console_clears_all_keys(console: BrowserPage):
    for name in ("a", "b"):
        assert console.api("POST", "/api/v1/session/keys/", {"key": name, "value": 1})[0] == 201
    page = console.page
    page.get_by_role("button", name="Refresh").first.click()
    expect(page.locator("#key-list li")).to_have_count(2)
    page.get_by_role("button", name="Delete all keys").click()
    expect(page.locator("#key-list li")).to_have_count(0)
    assert console.api("GET", "/api/v1/session/keys/") == (200, [])


# --- Session and expiry ------------------------------------------------------------


def test_console_session_shows_fingerprint_storage_and_cycles(console: BrowserPage):
    page = console.page
    expect(page.locator("#session-id")).to_have_text("none yet")
    assert console.api("POST", "/api/v1/session/keys/", {"key": "k", "value": "v"})[0] == 201
    page.get_by_role("button", name="Refresh").first.click()
    fingerprint = page.locator("#session-id")
    expect(fingerprint).to_have_text(re.compile(r"^[0-9a-f]{12}$"))
    expect(page.locator("#storage-text")).to_contain_text("9 of 65,536 bytes used")
    assert page.locator("#storage-meter").evaluate("m => [m.value, m.max]") == [9, 65536]

    before = fingerprint.inner_text()
    page.get_by_role("button", name="Cycle key").click()
    expect(fingerprint).not_to_have_text(before)
    expect(fingerprint).to_have_text(re.compile(r"^[0-9a-f]{12}$"))
    expect(page.locator("#key-list li")).to_have_count(1)

    page.get_by_role("button", name="Flush session").click()
    expect(fingerprint).to_have_text("none yet")
    expect(page.locator("#key-list li")).to_have_count(0)


def test_console_expiry_of_60_seconds_counts_down(console: BrowserPage):
    page = console.page
    page.get_by_label("After this many seconds").fill("60")
    page.get_by_role("button", name="Set seconds").click()

    expect(page.locator("#expiry-policy")).to_have_text("seconds of inactivity")
    countdown = page.locator("#countdown")
    expect(countdown).to_have_text(re.compile(r"^00:0(1:00|0:5\d)$"))
    first = _seconds(countdown.inner_text())
    page.wait_for_timeout(2500)
    later = _seconds(countdown.inner_text())
    assert 1 <= first - later <= 4, (first, later)
    status, expiry = console.api("GET", "/api/v1/session/expiry/")
    assert (status, expiry["policy"], expiry["age"]) == (200, "seconds", 60)


def test_console_expiry_date_is_sent_with_the_browsers_utc_offset(console: BrowserPage):
    page = console.page
    local = datetime.now(ZoneInfo(BROWSER_TIMEZONE)).replace(microsecond=0) + timedelta(hours=2)
    page.get_by_label("At this date and time").fill(local.strftime("%Y-%m-%dT%H:%M:%S"))
    with page.expect_request(_call("PUT", "/session/expiry/")) as sent:
        page.get_by_role("button", name="Set date").click()

    expires_at = sent.value.post_data_json["expires_at"]
    assert expires_at == local.isoformat()  # e.g. 2026-11-25T19:45:00-03:00
    assert expires_at.endswith("-03:00")
    expect(page.locator("#expiry-policy")).to_have_text("a fixed date and time")
    expiry = console.api("GET", "/api/v1/session/expiry/")[1]
    assert datetime.fromisoformat(expiry["expires_at"]) == local
    remaining = _seconds(page.locator("#countdown").inner_text())
    assert 7190 <= remaining <= 7200

    page.get_by_role("button", name="At browser close").click()
    expect(page.locator("#expiry-policy")).to_have_text("when the browser closes")
    assert console.api("GET", "/api/v1/session/expiry/")[1]["at_browser_close"] is True

    page.get_by_role("button", name="Back to default").click()
    expect(page.locator("#expiry-policy")).to_have_text("the server's default")
    assert console.api("GET", "/api/v1/session/expiry/")[1]["policy"] == "default"


def test_console_expiry_in_the_past_is_refused_in_the_browser(console: BrowserPage):
    page = console.page
    past = datetime.now(ZoneInfo(BROWSER_TIMEZONE)) - timedelta(hours=1)
    page.get_by_label("At this date and time").fill(past.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Set date").click()
    expect(page.locator("#expiry-date-error")).to_have_text("Pick a time in the future.")
    assert _unsafe_calls(console, "/api/v1/session/expiry/") == []


# --- Account -----------------------------------------------------------------------


def test_console_registers_logs_out_and_logs_in_again(console: BrowserPage):
    page = console.page
    username = f"ana-{uuid.uuid4().hex[:6]}"
    who = page.locator("#who")
    expect(who).to_have_text("Not signed in")

    page.get_by_text("Create an account").click()
    register = page.locator("#register-form")
    register.get_by_label("Username").fill(username)
    register.get_by_label("Password").fill(PASSWORD)
    register.get_by_role("button", name="Create account").click()
    expect(who).to_have_text(f"Signed in as {username}")
    expect(page.locator("#session-user")).to_have_text(username)
    expect(page.locator("#user-sessions li")).to_have_count(1)
    expect(page.locator("#user-sessions li")).to_contain_text("this session")

    page.get_by_role("button", name="Log out").click()
    expect(who).to_have_text("Not signed in")
    expect(page.locator("#session-user")).to_have_text("anonymous")
    assert console.api("GET", "/api/v1/auth/me/")[0] == 403

    csrf_before = console.cookie("csrftoken")
    console_log_in(console, username)
    assert console.api("GET", "/api/v1/auth/me/")[1]["username"] == username

    # Login rotated the CSRF token: the next unsafe call must read the new cookie.
    csrf_after = console.cookie("csrftoken")
    assert csrf_after and csrf_after != csrf_before
    keys = page.locator("#keys")
    keys.get_by_label("Key", exact=True).fill("after-login")
    keys.get_by_label("Value (JSON)").fill("true")
    with page.expect_request(_call("POST", "/session/keys/")) as sent:
        keys.get_by_role("button", name="Add key").click()
    assert sent.value.headers["x-csrftoken"] == csrf_after
    expect(page.locator("#key-list li", has_text="after-login")).to_have_count(1)

    page.get_by_role("button", name="Log out").click()
    expect(who).to_have_text("Not signed in")


def test_console_shows_the_servers_typed_field_errors_by_their_field(console: BrowserPage):
    page = console.page
    page.get_by_text("Create an account").click()
    register = page.locator("#register-form")
    register.get_by_label("Username").fill(f"eva-{uuid.uuid4().hex[:6]}")
    password = register.get_by_label("Password")
    password.fill("1234")
    with page.expect_response(lambda r: r.url.endswith("/auth/register/")) as answer:
        register.get_by_role("button", name="Create account").click()

    # A 400 invalid: each of the problem's field errors under the password input.
    problem = answer.value.json()
    assert (answer.value.status, problem["code"]) == (400, "invalid")
    messages = [item["message"] for item in problem["errors"] if item["field"] == "password"]
    assert messages, problem
    expect(page.locator("#register-password-error")).to_have_text(" ".join(messages))
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_be_focused()
    expect(register.locator(".problem")).to_contain_text(problem["detail"])
    expect(page.locator("#who")).to_have_text("Not signed in")


def test_console_wrong_password_shows_the_problem_detail(console: BrowserPage):
    username = f"bruno-{uuid.uuid4().hex[:6]}"
    console.live.create_user(username)
    login = console.page.locator("#login-form")
    login.get_by_label("Username").fill(username)
    remember_secret("not-the-password")
    login.get_by_label("Password").fill("not-the-password")
    login.get_by_role("button", name="Log in").click()
    expect(login.locator(".problem")).to_have_text("The username or password is not correct.")
    expect(console.page.locator("#who")).to_have_text("Not signed in")


def test_console_lists_my_sessions_and_revokes_another(make_page):
    first, second = make_page(), make_page()
    username = f"carla-{uuid.uuid4().hex[:6]}"
    first.live.create_user(username)
    for web in (second, first):  # two browsers, the same user
        web.open_console()
        console_log_in(web, username)

    rows = first.page.locator("#user-sessions li")
    expect(rows).to_have_count(2)
    other = rows.filter(has_not_text="this session")
    other.get_by_role("button", name=re.compile("^Revoke session")).click()
    expect(rows).to_have_count(1)
    assert second.api("GET", "/api/v1/auth/me/")[0] == 403  # logged out at once


# --- Tasks -------------------------------------------------------------------------


def test_console_task_progress_bar_reaches_100_percent(console: BrowserPage, tasks: None):
    # Something in the session, so the screenshot shows a console in use.
    for key, value in (("theme", "dark"), ("cart", [{"sku": "A-1", "qty": 2}])):
        assert console.api("POST", "/api/v1/session/keys/", {"key": key, "value": value})[0] == 201
    page = console.page
    page.get_by_role("button", name="Refresh").first.click()
    expect(page.locator("#key-list li")).to_have_count(2)

    console_enqueue(console, "demo.sleep", seconds="3", steps="3")
    task = page.locator("#task-list .task").first
    expect(task).to_contain_text("demo.sleep")
    bar = task.locator("progress")
    # Some report in between, then the end.
    page.wait_for_function(
        "bar => bar.hasAttribute('value') && bar.value > 0 && bar.value < 100",
        arg=bar.element_handle(),
        timeout=30_000,
    )
    expect(task.locator(".badge")).to_have_text("SUCCESS", timeout=30_000)
    assert bar.evaluate("bar => bar.value") == 100
    expect(task.locator(".task-result")).to_contain_text('"slept": 3')
    expect(task.get_by_role("button", name="Cancel task demo.sleep")).to_be_hidden()

    console_enqueue(console, "demo.add", a="2", b="40")
    expect(page.locator("#task-list .task").first.locator(".task-result")).to_contain_text("42")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)


def test_console_cancels_a_running_task(console: BrowserPage, tasks: None):
    console_enqueue(console, "demo.sleep", seconds="60", steps="60")
    task = console.page.locator("#task-list .task").first
    badge = task.locator(".badge")
    expect(badge).to_have_text(re.compile("^(STARTED|PROGRESS)$"), timeout=30_000)
    task.get_by_role("button", name="Cancel task demo.sleep").click()
    expect(badge).to_have_text("REVOKED", timeout=15_000)
    expect(task).to_contain_text("Cancelled.")
    expect(task.get_by_role("button", name="Cancel task demo.sleep")).to_be_hidden()


def test_console_schedules_a_task_at_a_local_time_and_cancels_it_before_then(
    console: BrowserPage, tasks: None
):
    page = console.page
    local = datetime.now(ZoneInfo(BROWSER_TIMEZONE)).replace(microsecond=0) + timedelta(hours=1)
    page.get_by_label("Or start at").fill(local.strftime("%Y-%m-%dT%H:%M:%S"))
    with page.expect_request(_call("POST", "/tasks/")) as sent:
        console_enqueue(console, "demo.add", a="1", b="2")
    assert sent.value.post_data_json["run_after"] == local.isoformat()  # the browser's offset
    task = page.locator("#task-list .task").first
    expect(task).to_contain_text("Scheduled for")
    expect(task.locator(".badge")).to_have_text("PENDING")
    task_id = task.get_attribute("data-task-id")
    stored = console.api("GET", f"/api/v1/tasks/{task_id}/")[1]
    assert datetime.fromisoformat(stored["run_after"]) == local
    task.get_by_role("button", name="Cancel task demo.add").click()
    expect(task.locator(".badge")).to_have_text("REVOKED", timeout=15_000)
    assert console.api("GET", f"/api/v1/tasks/{task_id}/")[1]["status"] == "REVOKED"


def test_console_refuses_both_a_countdown_and_a_start_time(console: BrowserPage, tasks: None):
    page = console.page
    page.get_by_label("Start after (seconds)").fill("30")
    page.get_by_label("Or start at").fill(
        (datetime.now(ZoneInfo(BROWSER_TIMEZONE)) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    console_enqueue(console, "demo.add", a="1", b="2")
    expect(page.locator("#task-run-after-error")).to_contain_text("not both")
    assert _unsafe_calls(console, "/api/v1/tasks/") == []


def test_console_shows_a_failed_tasks_error(console: BrowserPage, tasks: None):
    console_enqueue(console, "demo.fail", message="disk on fire")
    task = console.page.locator("#task-list .task").first
    expect(task.locator(".badge")).to_have_text("FAILURE", timeout=30_000)
    expect(task.locator(".task-error")).to_have_text("TaskFailed: disk on fire")


def test_console_task_form_follows_the_json_schema(console: BrowserPage, tasks: None):
    page = console.page
    form = page.locator("#task-form")
    form.get_by_label("Task type").select_option("demo.sleep")
    steps = form.locator("#arg-steps")
    expect(steps).to_have_value("10")  # the schema's default
    expect(steps).to_have_attribute("min", "1")
    expect(steps).to_have_attribute("max", "1000")

    form.locator("#arg-seconds").fill("601")
    form.get_by_role("button", name="Enqueue").click()
    expect(page.locator("#arg-seconds-error")).to_have_text("Enter at most 600.")
    expect(form.locator("#arg-seconds")).to_have_attribute("aria-invalid", "true")
    assert _unsafe_calls(console, "/api/v1/tasks/") == []

    # A type for logged-in users, sent anonymously: the server's 403 detail is shown.
    form.get_by_label("Task type").select_option("mail.send")
    expect(page.locator("#task-type-description")).to_contain_text("Log in to run this type.")
    form.locator("#arg-to").fill("someone@example.com")
    form.locator("#arg-subject").fill("Hello")
    form.locator("#arg-body").fill("Hi there.")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/tasks/")) as answer:
        form.get_by_role("button", name="Enqueue").click()
    assert answer.value.status == 403
    expect(form.locator(".problem")).to_have_text(answer.value.json()["detail"])

    # Logged in, a bad address: the server's field error lands under the field.
    username = f"dora-{uuid.uuid4().hex[:6]}"
    console.live.create_user(username)
    console_log_in(console, username)
    form.locator("#arg-to").fill("someone@example.com\nnot-an-address")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/tasks/")) as answer:
        form.get_by_role("button", name="Enqueue").click()
    problem = answer.value.json()
    assert answer.value.status == 400
    assert problem["errors"][0]["field"] == "args.to.1"
    expect(page.locator("#arg-to-error")).to_have_text(problem["errors"][0]["message"])
    expect(form.locator("#arg-to")).to_have_attribute("aria-invalid", "true")
