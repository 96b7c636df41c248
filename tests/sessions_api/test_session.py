"""The session object, cycle and flush on every engine."""

from __future__ import annotations

import hashlib

import pytest
from django.conf import settings

from tests.support.api import key_url
from tests.support.engines import any_engine
from tests.support.problems import problem

SESSION = "/api/v1/session/"


def test_reading_without_a_session_creates_none(make_client, engine):
    client = make_client(with_csrf=False)
    response = client.get(SESSION)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] is None
    assert body["is_empty"] is True
    assert body["keys"] == 0
    assert body["user"] is None
    assert body["engine"] == engine
    assert body["expiry"]["policy"] == "default"
    assert body["expiry"]["age"] == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_session_object_reports_keys_storage_and_a_fingerprint(client, engine):
    client.send("PUT", key_url("a"), {"value": 1})
    client.send("PUT", key_url("bb"), {"value": "é"})
    body = client.get(SESSION).json()
    assert body["keys"] == 2
    assert body["is_empty"] is False
    assert len(body["id"]) == 12 and int(body["id"], 16) >= 0
    # {"a":1,"bb":"é"} is 17 bytes of UTF-8.
    assert body["storage"]["bytes_used"] == 17
    assert body["storage"]["keys_limit"] == settings.SESSION_API_MAX_KEYS
    assert body["storage"]["server_side"] is (engine != "signed_cookies")
    if engine == "signed_cookies":
        assert 17 < body["storage"]["bytes_limit"] < settings.SESSION_API_MAX_SESSION_BYTES
    else:
        assert body["storage"]["bytes_limit"] == settings.SESSION_API_MAX_SESSION_BYTES
    # The fingerprint is stable while the key is.
    assert client.get(SESSION).json()["id"] == body["id"]


def test_the_session_key_never_appears_in_a_body(client, engine):
    client.send("PUT", key_url("a"), {"value": 1})
    cookie = client.session_cookie()
    assert cookie
    bodies = [
        client.get(SESSION).content,
        client.send("POST", "/api/v1/session/cycle/").content,
        client.get("/api/v1/session/keys/").content,
    ]
    cookie = client.session_cookie()
    bodies.append(client.get(SESSION).content)
    for body in bodies:
        assert cookie.encode() not in body
    if engine != "signed_cookies":
        assert client.get(SESSION).json()["id"] == hashlib.sha256(cookie.encode()).hexdigest()[:12]


def test_cycle_changes_the_key_and_keeps_the_data(client, engine):
    client.send("PUT", key_url("a"), {"value": [1, 2]})
    before_id = client.get(SESSION).json()["id"]
    before_cookie = client.session_cookie()
    response = client.send("POST", "/api/v1/session/cycle/")
    assert response.status_code == 200
    assert response.json()["id"] != before_id
    assert response.json()["keys"] == 1
    after_cookie = client.session_cookie()
    assert after_cookie != before_cookie
    assert client.get(key_url("a")).json()["value"] == [1, 2]
    assert client.get(SESSION).json()["id"] == response.json()["id"]
    if engine != "signed_cookies":
        # The old key is gone from the store: replaying it gives no session.
        old = type(client)()
        old.cookies[settings.SESSION_COOKIE_NAME] = before_cookie
        assert old.get(SESSION).json()["keys"] == 0


def test_flush_deletes_everything_and_forgets_the_key(client, engine):
    client.send("PUT", key_url("a"), {"value": 1})
    client.send("PUT", "/api/v1/session/expiry/", {"seconds": 100})
    old_cookie = client.session_cookie()
    response = client.delete(SESSION)
    assert response.status_code == 204
    assert response.content == b""
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""  # deleted
    body = client.get(SESSION).json()
    assert body["id"] is None and body["keys"] == 0 and body["expiry"]["policy"] == "default"
    if engine != "signed_cookies":
        replay = type(client)()
        replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
        assert replay.get(SESSION).json()["keys"] == 0


@any_engine
def test_unsafe_methods_need_csrf_even_for_anonymous_callers(make_client, engine):
    client = make_client(with_csrf=False)
    for method, path, body in [
        ("POST", "/api/v1/session/keys/", {"key": "a", "value": 1}),
        ("PUT", key_url("a"), {"value": 1}),
        ("DELETE", key_url("a"), None),
        ("DELETE", "/api/v1/session/keys/", None),
        ("PUT", "/api/v1/session/expiry/", {"seconds": 5}),
        ("DELETE", "/api/v1/session/expiry/", None),
        ("POST", "/api/v1/session/cycle/", None),
        ("DELETE", SESSION, None),
    ]:
        problem(client.send(method, path, body), 403, "csrf_failed")
    # A wrong token is refused just the same.
    client.get("/api/v1/auth/csrf/")
    client.credentials(HTTP_X_CSRFTOKEN="x" * 64)
    problem(client.send("PUT", key_url("a"), {"value": 1}), 403, "csrf_failed")
    assert client.get("/api/v1/session/keys/").json() == []


@any_engine
def test_the_csrf_check_comes_before_the_body_is_read(make_client, engine):
    """Without a token, a malformed or unsupported body is a CSRF failure, not a 400/415."""
    client = make_client(with_csrf=False)
    client.get("/api/v1/auth/csrf/")  # the cookie, but no header
    for path in ("/api/v1/session/keys/", "/api/v1/tasks/", "/api/v1/auth/login/"):
        for method in ("POST", "PUT"):
            response = client.generic(method, path, "{not json", "application/json")
            if response.status_code == 405:
                continue
            problem(response, 403, "csrf_failed")
    # With the token the same body gets its own answer.
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies[settings.CSRF_COOKIE_NAME].value)
    problem(
        client.generic("POST", "/api/v1/session/keys/", "{not json", "application/json"),
        400,
        "parse_error",
    )
    problem(
        client.generic("POST", "/api/v1/session/keys/", "a=1", "application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    )


@any_engine
def test_csrf_endpoint_sets_a_readable_cookie(make_client):
    client = make_client(with_csrf=False)
    response = client.get("/api/v1/auth/csrf/")
    assert response.status_code == 200
    token = response.json()["csrf_token"]
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value and len(token) == 64
    assert not cookie["httponly"]


@pytest.mark.parametrize(
    "expiry",
    [
        None,
        {"seconds": 600},
        {"expires_at": "in ten days, at +02:00"},
        {"at_browser_close": True},
    ],
)
def test_the_session_object_is_what_its_documented_serializer_renders(client, engine, expiry):
    """The views write the session object through ``serializers.SESSION``, compiled from
    SessionSerializer, which the schema documents; DRF's own rendering of that serializer
    must give the same JSON, field for field, in every state."""
    import json
    from importlib import import_module

    from django.contrib.auth import get_user
    from django.test import RequestFactory
    from rest_framework.renderers import JSONRenderer

    from sessions_api.rest import json_response
    from sessions_api.selectors import session_detail
    from sessions_api.serializers import SESSION as SESSION_SHAPE
    from sessions_api.serializers import SessionSerializer
    from tests.factories import make_user
    from tests.support.api import login

    def rendered_both_ways() -> tuple[dict, dict]:
        request = RequestFactory().get(SESSION)
        request.session = import_module(settings.SESSION_ENGINE).SessionStore(
            client.session_cookie()
        )
        request.user = get_user(request)
        detail = session_detail(request=request)
        fast = json.loads(json_response(SESSION_SHAPE.render(detail)).content)
        documented = json.loads(JSONRenderer().render(SessionSerializer(detail).data))
        return fast, documented

    fast, documented = rendered_both_ways()  # no session at all
    assert fast == documented and fast["id"] is None
    client.send("PUT", key_url("a"), {"value": {"nested": [1, "é"]}})
    if expiry and "expires_at" in expiry:
        from datetime import datetime, timedelta, timezone

        moment = datetime.now(timezone(timedelta(hours=2))) + timedelta(days=10)
        expiry = {"expires_at": moment.isoformat()}  # microseconds and a non-UTC offset
    if expiry:
        assert client.send("PUT", "/api/v1/session/expiry/", expiry).status_code == 200
    fast, documented = rendered_both_ways()
    assert fast == documented and fast["keys"] == 1
    login(client, make_user())
    fast, documented = rendered_both_ways()
    assert fast == documented and fast["user"]["username"]
    assert client.get(SESSION).json()["user"] == fast["user"]
