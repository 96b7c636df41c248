"""Request logging: one line per request with an id, plain or JSON."""

from __future__ import annotations

import io
import json
import logging

import pytest

from sessions_api.request_log import JsonFormatter, RequestIdFilter
from tests.support.engines import any_engine

# The request log is middleware around every view, whatever keeps the session.
pytestmark = any_engine


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "sessions_api.request"]


def test_each_request_gets_one_line_and_an_id_header(client, caplog):
    caplog.set_level(logging.INFO, logger="sessions_api.request")
    response = client.send("PUT", "/api/v1/session/keys/a/?secret=1", {"value": 1})
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    lines = request_lines(caplog)
    assert len(lines) == 1
    record = lines[0]
    assert (record.method, record.path, record.status) == ("PUT", "/api/v1/session/keys/a/", 201)
    assert record.duration_ms >= 0
    assert record.request_id == request_id
    assert "secret" not in record.getMessage()


def test_an_offered_request_id_is_kept_and_a_bad_one_replaced(client):
    assert (
        client.get("/healthz", HTTP_X_REQUEST_ID="edge-42.abc").get("X-Request-ID") == "edge-42.abc"
    )
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n" * 3)["X-Request-ID"]
    assert replaced != "bad id\n" * 3 and len(replaced) == 32


@pytest.mark.django_db
def test_json_format_is_one_object_per_line_with_the_request_fields():
    record = logging.LogRecord(
        "sessions_api.request", logging.INFO, __file__, 1, "%s %s", ("GET", "/x"), None
    )
    record.method, record.path, record.status, record.duration_ms = "GET", "/x", 200, 1.5
    RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "GET /x" and entry["status"] == 200
    assert entry["request_id"] == "-" and entry["level"] == "INFO"


def configured_formatter(name: str) -> logging.Formatter:
    """The formatter ``name`` of the LOGGING setting, built as logging.config builds it."""
    from logging.config import DictConfigurator

    from django.conf import settings

    config = dict(settings.LOGGING["formatters"][name])
    return DictConfigurator({"version": 1}).configure_formatter(config)


@pytest.mark.parametrize(
    ("path", "escaped"),
    [
        ("/api/v1/x%0d%0a2026-01-01 INFO forged", "/api/v1/x\\r\\n2026-01-01 INFO forged"),
        ("/api/v1/%1b[2J%e2%80%a8%c2%85", "/api/v1/\\x1b[2J\\u2028\\x85"),
    ],
)
@pytest.mark.django_db
def test_control_characters_in_a_path_cannot_forge_a_plain_log_line(path, escaped):
    from tests.support.clients import Client

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configured_formatter("plain"))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("sessions_api.request")
    logger.addHandler(handler)
    try:
        assert Client().get(path).status_code == 404
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert f"GET {escaped} 404 " in lines[0]


def test_the_json_format_keeps_a_control_character_inside_its_line():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a\r\nb\x1b", (), None)
    RequestIdFilter().filter(record)
    line = configured_formatter("json").format(record)
    assert len(line.splitlines()) == 1
    assert json.loads(line)["message"] == "a\r\nb\x1b"
