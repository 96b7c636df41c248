"""Expiry: the three PUT forms, reset, cookie lifetimes, and server-side enforcement."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from sessions_api.engines.base import EXPIRES_KEY
from tests.support.api import key_url, listing
from tests.support.engines import any_engine
from tests.support.problems import problem
from tests.support.sessions import store_of, stored_form

EXPIRY = "/api/v1/session/expiry/"


def cookie_of(response):
    return response.cookies[settings.SESSION_COOKIE_NAME]


def test_seconds_form(client):
    response = client.send("PUT", EXPIRY, {"seconds": 300})
    assert response.status_code == 200
    body = response.json()
    assert body["age"] == 300 and body["policy"] == "seconds" and body["at_browser_close"] is False
    expires = datetime.fromisoformat(body["expires_at"])
    assert abs((expires - datetime.now(UTC)).total_seconds() - 300) < 5
    morsel = cookie_of(response)
    assert morsel["max-age"] == 300
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert client.get(EXPIRY).json()["policy"] == "seconds"


def test_datetime_form_with_an_offset(client):
    target = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    text = target.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata")).isoformat()
    response = client.send("PUT", EXPIRY, {"expires_at": text})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["policy"] == "datetime"
    assert datetime.fromisoformat(body["expires_at"]) == target
    assert 7190 <= body["age"] <= 7200
    assert 7190 <= cookie_of(response)["max-age"] <= 7200


def test_browser_close_form_sets_no_max_age(client):
    response = client.send("PUT", EXPIRY, {"at_browser_close": True})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "age": settings.SESSION_COOKIE_AGE,
        "expires_at": body["expires_at"],
        "at_browser_close": True,
        "policy": "browser_close",
    }
    morsel = cookie_of(response)
    assert morsel["max-age"] == "" and morsel["expires"] == ""


def test_delete_returns_to_the_default(client):
    client.send("PUT", EXPIRY, {"seconds": 60})
    response = client.delete(EXPIRY)
    assert response.status_code == 200
    assert response.json()["policy"] == "default"
    assert response.json()["age"] == settings.SESSION_COOKIE_AGE


@override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True)
def test_default_policy_follows_the_browser_close_setting(client):
    body = client.get(EXPIRY).json()
    assert body["policy"] == "default" and body["at_browser_close"] is True


def _future(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    "body",
    [
        {"seconds": 0},
        {"seconds": -5},
        {"seconds": 31536001},
        {"seconds": "abc"},
        {"seconds": True},
        {"seconds": None},
        {"seconds": 1.5},
        {"expires_at": "2000-01-01T00:00:00Z"},
        {"expires_at": "2030-01-01T00:00:00"},
        {"expires_at": "not a date"},
        {"expires_at": 12345},
        {"expires_at": "9999-12-31T23:59:59-23:59"},
        {"at_browser_close": False},
        {"at_browser_close": None},
        {"at_browser_close": 1},
        {"at_browser_close": "true"},
        {},
        {"other": 1},
        {"seconds": 60, "at_browser_close": True},
        {"seconds": 60, "expires_at": "2030-01-01T00:00:00Z"},
        [],
        "60",
    ],
)
@any_engine
def test_bad_expiry_bodies_are_400_and_change_nothing(client, body):
    client.send("PUT", key_url("keep"), {"value": 1})
    client.send("PUT", EXPIRY, {"seconds": 777})
    problem(client.send("PUT", EXPIRY, body), 400, "invalid")
    assert client.get(EXPIRY).json()["age"] == 777
    assert listing(client) == {"keep": 1}


@any_engine
def test_datetime_beyond_the_maximum_is_refused(client):
    problem(client.send("PUT", EXPIRY, {"expires_at": _future(days=366)}), 400, "invalid")
    with override_settings(SESSION_API_MAX_EXPIRY_SECONDS=100):
        problem(client.send("PUT", EXPIRY, {"seconds": 101}), 400, "invalid")
        problem(client.send("PUT", EXPIRY, {"expires_at": _future(seconds=200)}), 400, "invalid")
        assert client.send("PUT", EXPIRY, {"seconds": 100}).status_code == 200


def test_an_expired_session_is_empty_on_its_next_request(client, engine):
    client.send("PUT", key_url("secret"), {"value": "data"})
    client.send("PUT", EXPIRY, {"seconds": 1})
    old_cookie = client.session_cookie()
    time.sleep(2.1)
    assert listing(client) == {}
    # Replaying the old cookie from another client is no better.
    replay = type(client)()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    assert listing(replay) == {}
    assert replay.get("/api/v1/session/").json()["id"] is None


@pytest.mark.engines("signed_cookies")  # the replay of a self-contained cookie
def test_signed_cookie_past_its_custom_expiry_is_empty_when_replayed(make_client, engine):
    client = make_client()
    client.send("PUT", key_url("k"), {"value": "v"})
    # 2 s, not 1: the cookie's timestamp is in whole seconds, so its age can read up to
    # a second more than has passed, and the check below must come before the expiry.
    response = client.send("PUT", EXPIRY, {"seconds": 2})
    captured = cookie_of(response).value
    # The cookie is valid now ...
    fresh = type(client)()
    fresh.cookies[settings.SESSION_COOKIE_NAME] = captured
    assert listing(fresh) == {"k": "v"}
    time.sleep(3.1)
    # ... and refused after its own expiry, though SESSION_COOKIE_AGE is two weeks.
    for _ in range(3):
        replay = type(client)()
        replay.cookies[settings.SESSION_COOKIE_NAME] = captured
        assert listing(replay) == {}


@pytest.mark.engines("signed_cookies")  # its own age check
def test_signed_cookie_honours_an_expiry_longer_than_the_cookie_age(make_client, engine):
    with override_settings(SESSION_COOKIE_AGE=1):
        client = make_client()
        client.send("PUT", key_url("k"), {"value": "v"})
        client.send("PUT", EXPIRY, {"seconds": 3600})
        time.sleep(2.1)
        assert listing(client) == {"k": "v"}


def test_a_save_stamps_what_it_writes_and_leaves_the_data_as_it_was(engine, monkeypatch):
    # Django's contract for cycle_key() (its own test_cycle): the data is the same after
    # it. cycle_key() saves again; a stamp written into the data itself would move with
    # the clock between the two saves.
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["a"] = 1
    store.save()
    before = list(store.items())
    later = timezone.now() + timedelta(seconds=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    store.cycle_key()
    assert list(store.items()) == before
    # A reload holds the same data; what was written carries the expiry of the new save.
    assert list(store_of(store.session_key).items()) == before
    if store.stamps_expiry:
        stored = stored_form(store.session_key)
        assert stored[EXPIRES_KEY] == int(later.timestamp()) + settings.SESSION_COOKIE_AGE
