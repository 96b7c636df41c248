"""Bad input to the task endpoints: every refusal is a problem document, never a 500,
and nothing is recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from tasks_api.models import TaskRecord
from tests.support.clients import Client

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
GOOD = {
    "demo.add": {"a": 1, "b": 2},
    "demo.sleep": {"seconds": 1, "steps": 2},
    "demo.fail": {"message": "boom"},
    "text.stats": {"text": "some words", "top": 3},
    "mail.send": {"to": ["ana@example.com"], "subject": "Hi", "body": "Hello."},
    "sessions.clear_expired": {},
}
# (type, argument, bad value): each is out of range or of the wrong JSON type.
# A value of MISSING drops the argument.
MISSING = object()
BAD_ARGS = [
    ("demo.add", "a", MISSING),
    ("demo.add", "a", "1"),
    ("demo.add", "a", True),
    ("demo.add", "a", None),
    ("demo.add", "a", [1]),
    ("demo.add", "b", 1e301),
    ("demo.add", "b", -(10**301)),
    ("demo.add", "c", 3),  # unknown argument
    ("demo.sleep", "seconds", MISSING),
    ("demo.sleep", "seconds", -1),
    ("demo.sleep", "seconds", 600.5),
    ("demo.sleep", "seconds", "5"),
    ("demo.sleep", "seconds", None),
    ("demo.sleep", "steps", 0),
    ("demo.sleep", "steps", 1001),
    ("demo.sleep", "steps", 2.5),
    ("demo.sleep", "steps", "10"),
    ("demo.sleep", "steps", True),
    ("demo.fail", "message", MISSING),
    ("demo.fail", "message", 123),
    ("demo.fail", "message", None),
    ("demo.fail", "message", "x" * 1001),
    ("demo.fail", "message", "\ud800"),  # an unpaired surrogate cannot be stored
    ("text.stats", "text", MISSING),
    ("text.stats", "text", 5),
    ("text.stats", "text", ["a"]),
    ("text.stats", "text", "é" * (MIB // 2 + 1)),  # under 1 Mi characters, over 1 MiB
    ("text.stats", "text", "nul\x00"),
    ("text.stats", "top", 0),
    ("text.stats", "top", 101),
    ("text.stats", "top", "5"),
    ("mail.send", "to", MISSING),
    ("mail.send", "to", []),
    ("mail.send", "to", [f"r{i}@example.com" for i in range(51)]),
    ("mail.send", "to", ["not-an-address"]),
    ("mail.send", "to", "ana@example.com"),
    ("mail.send", "subject", "x" * 201),
    ("mail.send", "subject", "two\nlines"),
    ("mail.send", "subject", 7),
    ("mail.send", "body", "x" * 100001),
    ("mail.send", "body", False),
    ("sessions.clear_expired", "anything", 1),
]


def _client_for(name: str, django_user_model: Any) -> Client:
    client = Client()
    if name in ("mail.send", "sessions.clear_expired"):
        user = django_user_model.objects.create_user(
            username="staff", password="a-long-test-password", is_staff=True
        )
        client.force_login(user)
    client.csrf()
    return client


def _assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    return body


@pytest.mark.parametrize(("name", "arg", "value"), BAD_ARGS, ids=lambda v: repr(v)[:30])
def test_bad_argument_is_invalid_and_names_the_field(name, arg, value, django_user_model):
    client = _client_for(name, django_user_model)
    args = dict(GOOD[name])
    if value is MISSING:
        args.pop(arg)
    else:
        args[arg] = value
    # As UTF-8, the way a browser sends it (json.dumps would escape "é" to 6 bytes); a
    # lone surrogate can only travel as a JSON escape.
    try:
        raw = json.dumps({"name": name, "args": args}, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raw = json.dumps({"name": name, "args": args}).encode()
    response = client.generic("POST", "/api/v1/tasks/", raw, "application/json")
    body = _assert_problem(response, 400, "invalid")
    fields = {error["field"] for error in body["errors"]}
    assert fields in ({f"args.{arg}"}, {f"args.{arg}.0"}), fields  # .0: a list item
    assert not TaskRecord.objects.exists()


def test_text_of_exactly_1_mib_as_utf8_is_accepted():
    from tasks_api.tasks import TextStatsArgs

    assert TextStatsArgs(data={"text": "é" * (MIB // 2)}).is_valid()
    assert not TextStatsArgs(data={"text": "é" * (MIB // 2) + "x"}).is_valid()


@pytest.mark.parametrize("name", ["nope", "", "demo.add ", "DEMO.ADD", "demo", "x" * 101, 123])
def test_unknown_or_malformed_name_is_refused(name):
    client = Client()
    client.csrf()
    response = client.send("POST", "/api/v1/tasks/", {"name": name, "args": {}})
    if isinstance(name, str) and 0 < len(name) <= 100:
        body = _assert_problem(response, 400, "unknown_task")
        assert "/api/v1/tasks/types/" in body["detail"]
    else:
        body = _assert_problem(response, 400, "invalid")
        assert body["errors"][0]["field"] == "name"
    assert not TaskRecord.objects.exists()


@pytest.mark.parametrize("countdown", [-1, 2592001, "5", 1.5, True, None])
def test_countdown_out_of_range_or_not_an_integer_is_invalid(countdown):
    _refused_field({"countdown": countdown}, "countdown")


def test_countdown_beyond_the_configured_delay_is_invalid(settings):
    settings.TASKS_MAX_DELAY_SECONDS = 60
    assert "60" in _refused_field({"countdown": 61}, "countdown")["message"]


@pytest.mark.parametrize(
    "run_after",
    [
        "2026-11-25T18:40:38",  # no offset: which zone is meant is anyone's guess
        "tomorrow",
        "2026-13-01T00:00:00Z",
        "9999-12-31T23:59:59Z",  # beyond TASKS_MAX_DELAY_SECONDS
        12,
        None,
    ],
)
def test_run_after_that_is_not_an_aware_time_within_reach_is_invalid(run_after):
    _refused_field({"run_after": run_after}, "run_after")


def test_countdown_and_run_after_together_are_invalid():
    error = _refused_field({"countdown": 5, "run_after": "2030-01-01T00:00:00+01:00"}, "run_after")
    assert "not both" in error["message"]


def _refused_field(extra: dict[str, Any], field: str) -> dict[str, Any]:
    """A demo.add enqueue with ``extra`` in its body is ``400 invalid`` on ``field``, and
    records nothing; return that field's error."""
    client = Client()
    client.csrf()
    body = {"name": "demo.add", "args": GOOD["demo.add"], **extra}
    problem = _assert_problem(client.send("POST", "/api/v1/tasks/", body), 400, "invalid")
    assert problem["errors"][0]["field"] == field
    assert not TaskRecord.objects.exists()
    return problem["errors"][0]


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "demo.add",
        {"name": "demo.add", "args": [1]},
        {"name": "demo.add", "args": "a=1"},
        {"args": {}},
    ],
)
def test_body_that_is_not_a_task_request_is_invalid(body):
    client = Client()
    client.csrf()
    _assert_problem(client.send("POST", "/api/v1/tasks/", body), 400, "invalid")


def test_body_that_is_not_json_is_a_parse_error():
    client = Client()
    client.csrf()
    response = client.generic("POST", "/api/v1/tasks/", '{"name": ', "application/json")
    _assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks/not-a-uuid/",
        "/api/v1/tasks/1/",
        "/api/v1/tasks/00000000-0000-0000-0000-00000000000g/",
        "/api/v1/tasks/%00/",
        "/api/v1/tasks/3f2b6c1e-8a4d-4a9e-9c1b-2f6d7e8a9b0c/",  # well formed, unknown
    ],
)
def test_malformed_or_unknown_id_is_404_on_get_and_cancel(path):
    client = Client()
    client.csrf()
    _assert_problem(client.get(path), 404, "not_found")
    _assert_problem(client.send("POST", f"{path}cancel/"), 404, "not_found")


def test_anonymous_caller_may_not_run_user_or_staff_types():
    client = Client()
    client.csrf()
    for name in ("mail.send", "sessions.clear_expired"):
        response = client.send("POST", "/api/v1/tasks/", {"name": name, "args": GOOD[name]})
        _assert_problem(response, 403, "not_authenticated")
    assert not TaskRecord.objects.exists()


def test_user_who_is_not_staff_may_not_run_staff_types(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("ana", password="a-long-pw-123"))
    client.csrf()
    response = client.send("POST", "/api/v1/tasks/", {"name": "sessions.clear_expired"})
    _assert_problem(response, 403, "permission_denied")


def test_permission_is_checked_before_the_arguments():
    client = Client()
    client.csrf()
    response = client.send("POST", "/api/v1/tasks/", {"name": "mail.send", "args": {"to": 1}})
    _assert_problem(response, 403, "not_authenticated")


def test_enqueue_without_csrf_token_is_refused_first():
    response = Client().send("POST", "/api/v1/tasks/", {"name": "nope"})
    _assert_problem(response, 403, "csrf_failed")


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_malformed_idempotency_key_is_invalid(key):
    client = Client()
    client.csrf()
    body = {"name": "demo.add", "args": GOOD["demo.add"]}
    response = client.send("POST", "/api/v1/tasks/", body, HTTP_IDEMPOTENCY_KEY=key)
    problem = _assert_problem(response, 400, "invalid")
    assert problem["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    "query",
    [
        "status=DONE",
        "status=done",
        "status=",
        "name=",
        "name=" + "x" * 101,
        "page=abc",
        "page=",
        "page=last",
        "page_size=0",
        "page_size=101",
        "page_size=null",
        "page=0",
        "page=99",
        # Unicode digits: str.isdigit() says yes, int() says no (once a 500).
        "page_size=%C2%B2",
        "page_size=1%E2%81%B0",
        "page=%C2%B2",
        "page=%E2%91%A0",
        # Beyond what int() converts (once a 500 too).
        "page_size=" + "1" * 5000,
        "page=" + "1" * 5000,
        "offset=" + "1" * 5000,
        "offset=",
        "offset=-1",
        "offset=abc",
        "offset=%C2%B2",
        "offset=0&page=1",
        "offset=99",
    ],
)
def test_bad_list_query_is_a_problem(query):
    client = Client()
    response = client.get(f"/api/v1/tasks/?{query}")
    if query in {"page=0", "page=99", "offset=99"}:
        # A whole number, but no such page: page 1 of an empty list exists (DRF: 404).
        _assert_problem(response, 404, "not_found")
    else:
        _assert_problem(response, 400, "invalid")


@override_settings(TASKS_ENQUEUE_RATE="3/min")
def test_enqueue_is_rate_limited_per_owner():
    first, second = Client(), Client()
    for owner in (first, second):
        owner.csrf()
        # A first task makes each an owner (its session's owner token); before that an
        # anonymous caller counts against its address, which both share.
        response = owner.send(
            "POST", "/api/v1/tasks/", {"name": "demo.add", "args": GOOD["demo.add"]}
        )
        assert response.status_code == 202, response.content
    for _ in range(3):  # refused requests count too: the limit protects the service
        _assert_problem(first.send("POST", "/api/v1/tasks/", {"name": "nope"}), 400, "unknown_task")
    response = first.send("POST", "/api/v1/tasks/", {"name": "nope"})
    _assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Per owner: another anonymous session from the same address has its own count.
    for _ in range(3):
        response = second.send("POST", "/api/v1/tasks/", {"name": "nope"})
        _assert_problem(response, 400, "unknown_task")
    _assert_problem(second.send("POST", "/api/v1/tasks/", {"name": "nope"}), 429, "throttled")
    # Polling is not limited.
    listed = first.get("/api/v1/tasks/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
