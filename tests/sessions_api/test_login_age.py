"""A login's absolute lifetime (SESSION_API_MAX_LOGIN_AGE), on every engine.

A login ends that long after it began, whatever its expiry says: every expiry of the
session is capped at that moment (the cookie, the stored copy, what the API reports),
an expiry PUT that would pass it is refused, and a request of a login past it is
anonymous, its server-side copy ended as if revoked. Two clocks are turned here
instead of waiting: the registry row's ``created_at`` and the end stamped in the
session itself.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.utils import timezone

from sessions_api.engines.base import ENDS_KEY, EXPIRES_KEY, ApiSessionStore
from sessions_api.models import UserSession
from tests.factories import PASSWORD, make_user
from tests.support.api import key_url, listing, login, replay
from tests.support.problems import problem
from tests.support.sessions import store_of, stored_form

EXPIRY = "/api/v1/session/expiry/"
ME = "/api/v1/auth/me/"
DEFAULT_MAX_AGE = 2592000


def stored_expiry(store: ApiSessionStore) -> datetime:
    """When the stored copy of a loaded session expires, as the store itself keeps it."""
    if not store.stamps_expiry:  # db, cached_db: the row's expire_date
        return Session.objects.get(session_key=store.session_key).expire_date
    stored = stored_form(store.session_key or "")
    assert stored is not None and EXPIRES_KEY not in store.load()
    return datetime.fromtimestamp(stored[EXPIRES_KEY], tz=UTC)


def test_an_expiry_beyond_the_end_of_the_login_is_refused(client, engine):
    login(client, make_user())
    client.send("PUT", key_url("keep"), {"value": 1})
    assert client.send("PUT", EXPIRY, {"seconds": 777}).status_code == 200
    year = client.send("PUT", EXPIRY, {"seconds": 31536000})
    body = problem(year, 400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("seconds", "max_login_age")]
    assert "SESSION_API_MAX_LOGIN_AGE" in body["errors"][0]["message"]
    later = (datetime.now(UTC) + timedelta(seconds=DEFAULT_MAX_AGE + 60)).isoformat()
    body = problem(client.send("PUT", EXPIRY, {"expires_at": later}), 400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("expires_at", "max_login_age")]
    # A refused PUT changes nothing.
    assert client.get(EXPIRY).json()["age"] == 777
    assert listing(client) == {"keep": 1}
    # Within the login, every form still works.
    assert client.send("PUT", EXPIRY, {"seconds": DEFAULT_MAX_AGE - 60}).status_code == 200
    sooner = (datetime.now(UTC) + timedelta(days=29)).isoformat()
    assert client.send("PUT", EXPIRY, {"expires_at": sooner}).status_code == 200
    assert client.send("PUT", EXPIRY, {"at_browser_close": True}).status_code == 200


def test_an_anonymous_session_may_set_the_longest_expiry(client, engine):
    response = client.send("PUT", EXPIRY, {"seconds": 31536000})
    assert response.status_code == 200, response.content
    assert response.json()["age"] == 31536000


@override_settings(SESSION_API_MAX_LOGIN_AGE=600)
def test_every_expiry_of_a_login_is_capped_at_its_end(client, engine):
    response = login(client, make_user())
    ends = datetime.fromtimestamp(store_of(client.session_cookie()).load()[ENDS_KEY], tz=UTC)
    assert timedelta(seconds=590) < ends - datetime.now(UTC) <= timedelta(seconds=600)
    # The cookie of the login itself, and the default expiry as the API reports it.
    assert 590 <= response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] <= 600
    expiry = client.get(EXPIRY).json()
    assert expiry["policy"] == "default" and 590 <= expiry["age"] <= 600
    assert datetime.fromisoformat(expiry["expires_at"]) <= ends
    assert stored_expiry(store_of(client.session_cookie())) <= ends
    # A shorter expiry is honoured as it is; going back to the default is capped again,
    # and so is the server-side lifetime of a browser-close session.
    assert client.send("PUT", EXPIRY, {"seconds": 300}).json()["age"] == 300
    problem(client.send("PUT", EXPIRY, {"seconds": 601}), 400, "invalid")
    reset = client.delete(EXPIRY)
    assert reset.json()["policy"] == "default" and reset.json()["age"] <= 600
    assert reset.cookies[settings.SESSION_COOKIE_NAME]["max-age"] <= 600
    closing = client.send("PUT", EXPIRY, {"at_browser_close": True}).json()
    assert closing["at_browser_close"] is True and closing["age"] <= 600
    # Each renewal (a write) stays within the end too, and so does the registry.
    client.send("PUT", key_url("again"), {"value": 2})
    assert stored_expiry(store_of(client.session_cookie())) <= ends
    (item,) = client.get("/api/v1/auth/sessions/").json()
    assert datetime.fromisoformat(item["expires_at"]) <= ends


def test_a_login_older_than_the_max_age_is_anonymous_and_ended(make_client, engine):
    """Turned back in the registry: the row is older than the setting allows."""
    user = make_user()
    browser = make_client()
    login(browser, user)
    browser.send("PUT", key_url("private"), {"value": "x"})
    cookie = browser.session_cookie()
    assert browser.get(ME).status_code == 200
    born = timezone.now() - timedelta(seconds=DEFAULT_MAX_AGE + 1)
    assert UserSession.objects.filter(user=user).update(created_at=born) == 1
    problem(browser.get(ME), 403, "not_authenticated")
    # Ended like a revocation: no row, and no copy that a replayed cookie could reach.
    assert not UserSession.objects.filter(user=user).exists()
    replayed = replay(type(browser), cookie)
    problem(replayed.get(ME), 403, "not_authenticated")
    assert replayed.get("/api/v1/session/keys/").json() == []
    if store_of(cookie).server_side:
        assert not store_of(cookie).exists(cookie)


def test_a_lower_setting_ends_older_logins_at_once(make_client, engine):
    browser = make_client()
    login(browser, make_user())
    UserSession.objects.update(created_at=timezone.now() - timedelta(seconds=120))
    assert browser.get(ME).status_code == 200
    with override_settings(SESSION_API_MAX_LOGIN_AGE=60):
        problem(browser.get(ME), 403, "not_authenticated")


def test_a_session_past_its_stamped_end_is_no_session(make_client, engine, monkeypatch):
    """Turned back in the session: its end has passed, though its expiry has not."""
    user = make_user()
    browser = make_client()
    login(browser, user)
    browser.send("PUT", key_url("private"), {"value": "x"})
    store = store_of(browser.session_cookie())
    store[ENDS_KEY] = int(time.time()) - 1
    with monkeypatch.context() as patch:
        # Save without the cap, so that the stored expiry stays in the future and only
        # the end itself can end the session.
        patch.setattr(ApiSessionStore, "ends_at", lambda self: None)
        store.save()
    assert stored_expiry(store) > timezone.now()
    replayed = replay(type(browser), store.session_key)
    problem(replayed.get(ME), 403, "not_authenticated")
    assert replayed.get("/api/v1/session/keys/").json() == []


@pytest.mark.parametrize("path", ["/api/v1/auth/register/", "/api/v1/auth/login/"])
def test_register_and_login_both_give_the_login_its_end(client, engine, path):
    username = make_user().username if path.endswith("login/") else "newcomer"
    body = {"username": username, "password": PASSWORD}
    assert client.send("POST", path, body).status_code in (200, 201)
    ends = store_of(client.session_cookie()).load()[ENDS_KEY]
    assert 0 < ends - time.time() <= DEFAULT_MAX_AGE
