"""Every API response is ``Cache-Control: no-store``, errors of every origin included."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.support.api import key_url
from tests.support.clients import Client


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def api(db) -> Client:
    api = Client()
    api.csrf()
    return api


def test_successful_responses_are_not_stored(api):
    responses = [
        api.get("/api/v1/auth/csrf/"),
        api.send("PUT", key_url("a"), {"value": 1}),
        api.get(key_url("a")),
        api.get("/api/v1/session/"),
        api.send("DELETE", key_url("a")),
    ]
    assert [response.status_code for response in responses] == [200, 201, 200, 200, 204]
    assert all(no_store(response) for response in responses)


def test_error_responses_are_not_stored(api):
    responses = {
        "unknown path": api.get("/api/v1/no-such-thing/"),
        "absent key": api.get(key_url("absent")),
        "method": api.send("PATCH", key_url("a"), {"value": 1}),
        "parse error": api.generic("PUT", key_url("a"), "{", "application/json"),
        "csrf": Client().send("PUT", key_url("a"), {"value": 1}),
        "not logged in": api.get("/api/v1/auth/me/"),
    }
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        responses["too large"] = api.generic(
            "PUT", key_url("a"), '{"value": "' + "x" * 2048 + '"}', "application/json"
        )
    assert {name: response.status_code for name, response in responses.items()} == {
        "unknown path": 404,
        "absent key": 404,
        "method": 405,
        "parse error": 400,
        "csrf": 403,
        "not logged in": 403,
        "too large": 413,
    }
    assert [name for name, response in responses.items() if not no_store(response)] == []


@override_settings(REGISTER_THROTTLE_RATE="1/hour")
def test_a_throttled_response_is_not_stored(db):
    statuses = []
    for number in range(2):
        browser = Client(REMOTE_ADDR="10.9.8.7")
        browser.csrf()
        response = browser.send(
            "POST",
            "/api/v1/auth/register/",
            {"username": f"throttled{number}", "password": "correct horse battery 42"},
        )
        statuses.append(response.status_code)
    assert statuses == [201, 429]
    assert no_store(response)


@pytest.mark.urls("tests.api_project.test_errors")
@pytest.mark.django_db
def test_a_500_is_not_stored():
    response = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert response.status_code == 500
    assert no_store(response)
