"""Settings from the environment as a real gunicorn applies them: what reaches the wire
(the cookies' attributes) and the log (``LOG_FORMAT=json``).

One migrated SQLite database serves the module; each test starts its own gunicorn on
it with the environment under test.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.namespace import LOG_DIR
from tests.servers import HttpSession, gunicorn, manage, service_env

pytestmark = [pytest.mark.integration, pytest.mark.standalone]

# gunicorn's own lines (its error log: start, workers, stop) are its format, not ours.
GUNICORN_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")


@pytest.fixture(scope="module")
def database_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("live-settings")
    env = service_env(DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}", SESSION_ENGINE="db")
    manage("migrate", "--noinput", env=env)
    yield env


def set_cookies(headers) -> dict[str, str]:
    """The response's Set-Cookie headers by cookie name, as sent."""
    return {line.split("=", 1)[0]: line for line in headers.get_all("Set-Cookie") or []}


def attributes(line: str) -> dict[str, str]:
    """A Set-Cookie line's attributes, names lower-cased (a flag's value is "")."""
    parts = [part.strip() for part in line.split(";")[1:]]
    return {name.lower(): value for name, _, value in (part.partition("=") for part in parts)}


def test_cookie_attributes_for_an_spa_on_another_site_reach_the_set_cookie(database_env):
    env = {
        **database_env,
        "SESSION_COOKIE_NAME": "sessionid",
        "SESSION_COOKIE_SECURE": "true",
        "SESSION_COOKIE_SAMESITE": "None",
        "SESSION_COOKIE_DOMAIN": ".example.test",
        "CSRF_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SAMESITE": "None",
    }
    with gunicorn(env, workers=1) as base:
        browser = HttpSession(base)
        status, _, headers = browser.request("GET", "/api/v1/auth/csrf/")
        assert status == 200
        csrf_cookie = attributes(set_cookies(headers)["csrftoken"])
        browser.csrf = browser.cookies["csrftoken"]
        status, _, headers = browser.request("PUT", "/api/v1/session/keys/a/", {"value": 1})
        assert status == 201
        session_cookie = attributes(set_cookies(headers)["sessionid"])

    assert session_cookie["domain"] == ".example.test"
    assert session_cookie["samesite"] == "None"
    assert "secure" in session_cookie and "httponly" in session_cookie
    assert csrf_cookie["samesite"] == "None"
    assert "secure" in csrf_cookie
    assert "httponly" not in csrf_cookie  # the SPA reads the token from it


def test_the_default_cookie_attributes_reach_the_set_cookie(database_env):
    with gunicorn(database_env, workers=1) as base:
        browser = HttpSession(base)
        browser.fetch_csrf()
        status, _, headers = browser.request("PUT", "/api/v1/session/keys/a/", {"value": 1})
        assert status == 201
        (line,) = set_cookies(headers).values()
    session_cookie = attributes(line)
    assert session_cookie["samesite"] == "Lax" and session_cookie["path"] == "/"
    assert "httponly" in session_cookie
    assert "secure" not in session_cookie and "domain" not in session_cookie


class TracedSession(HttpSession):
    """A browser that offers its own request id."""

    headers = {**HttpSession.headers, "X-Request-ID": "json-e2e-4711"}


def test_log_format_json_writes_one_json_object_per_line(database_env):
    log = LOG_DIR / f"gunicorn-json-{time.time_ns()}.log"
    env = {
        **database_env,
        "LOG_FORMAT": "json",
        # whitenoise warns (a Python warning, not a log record) that the checkout has no
        # collected static files; the image collects them at build time.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    with gunicorn(env, workers=1, log=log) as base:
        browser = TracedSession(base)
        browser.fetch_csrf()
        status, _, headers = browser.request("PUT", "/api/v1/session/keys/a/", {"value": 1})
        assert status == 201 and headers["X-Request-ID"] == "json-e2e-4711"
        assert browser.request("GET", "/api/v1/no-such-thing/")[0] == 404
    entries, others = _read(log)

    assert not [line for line in others if not GUNICORN_LINE.match(line)], others
    assert all(
        {"time", "level", "logger", "message", "request_id"} <= entry.keys() for entry in entries
    )
    requests = [
        entry
        for entry in entries
        if entry["logger"] == "sessions_api.request" and entry["path"] != "/healthz"  # start-up
    ]
    assert [(entry["method"], entry["path"], entry["status"]) for entry in requests] == [
        ("GET", "/api/v1/auth/csrf/", 200),
        ("PUT", "/api/v1/session/keys/a/", 201),
        ("GET", "/api/v1/no-such-thing/", 404),
    ]
    assert {entry["request_id"] for entry in requests} == {"json-e2e-4711"}
    assert all(entry["duration_ms"] >= 0 and "user_id" in entry for entry in requests)


def _read(log: Path) -> tuple[list[dict], list[str]]:
    """The log's JSON objects, and the lines that are not one."""
    entries, others = [], []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            others.append(line)
        else:
            assert isinstance(entry, dict), line
            entries.append(entry)
    return entries, others


def test_a_request_the_server_cannot_parse_gets_a_problem_document(database_env):
    """A header value with a control character stops uvicorn's parser before Django: the
    answer is still the API's problem document (``parse_error``), not plain text."""
    with gunicorn(database_env, workers=1) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(
                b"GET /api/v1/session/ HTTP/1.1\r\nHost: localhost\r\nAccept: text/\x0fhtml\r\n\r\n"
            )
            raw = b""
            while chunk := connection.recv(65536):
                raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["code"] == "parse_error"
    assert "not valid HTTP" in problem["detail"]


class ForwardingClient(HttpSession):
    """A client that claims, from 127.0.0.1, to be a proxy forwarding another address."""

    headers: ClassVar[dict[str, str]] = {
        **HttpSession.headers,
        "X-Forwarded-For": "203.0.113.9",
    }


def test_forwarded_headers_do_not_set_the_client_address_unless_the_app_trusts_a_proxy(
    database_env,
):
    """The server takes the peer as the client; only ``TRUSTED_PROXY_COUNT`` (0 here) lets
    the application read ``X-Forwarded-For``, so the throttles and the device list count
    the real address even for a peer in ``FORWARDED_ALLOW_IPS`` (127.0.0.1 by default)."""
    with gunicorn({**database_env, "TRUSTED_PROXY_COUNT": "0"}, workers=1) as base:
        browser = ForwardingClient(base)
        browser.request("GET", "/api/v1/auth/csrf/")
        browser.csrf = browser.cookies["csrftoken"]
        credentials = {"username": f"fwd-{secrets.token_hex(4)}", "password": "A long passphrase 7"}
        status, body, _ = browser.request("POST", "/api/v1/auth/register/", credentials)
        assert status == 201, body
        browser.csrf = browser.cookies["csrftoken"]
        status, sessions, _ = browser.request("GET", "/api/v1/auth/sessions/")
    assert status == 200
    assert [item["ip"] for item in sessions] == ["127.0.0.1"]
