"""What the README promises about logins, the registry and the session settings.

Each test takes one sentence of the README at its word: server-side sessions that a
logout, a password change, a revocation, a deactivation or the admin ended are gone
from their store; the registry keeps the client's address and user agent and a hash,
never the key; registration is throttled per client address; and
``SESSION_SAVE_EVERY_REQUEST`` makes a read save the session.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from sessions_api.engines.django_internals import redis_client
from sessions_api.models import UserSession
from sessions_api.sealing import unseal
from tests.factories import PASSWORD, make_user
from tests.support.api import KEYS, SESSIONS, key_url, login
from tests.support.clients import Client
from tests.support.engines import SERVER_SIDE
from tests.support.problems import problem

# The engines that keep a copy of the session on the server (signed_cookies does not).
server_side = pytest.mark.engines(*SERVER_SIDE)


def stored(key: str | None) -> bool:
    """Whether the configured engine's store still has a session under ``key``."""
    assert key
    return import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


def logged_in(make_client, user) -> tuple[Client, str]:
    device = make_client()
    login(device, user)
    key = device.session_cookie()
    assert stored(key)
    return device, key


# --- Ended logins leave nothing in a server-side store -------------------------------


@server_side
def test_logout_deletes_the_session_from_its_store(make_client, engine):
    device, key = logged_in(make_client, make_user())
    assert device.send("POST", "/api/v1/auth/logout/").status_code == 204
    assert not stored(key)


@server_side
def test_a_password_change_deletes_every_old_session_from_the_store(make_client, engine):
    user = make_user()
    here, here_key = logged_in(make_client, user)
    _, there_key = logged_in(make_client, user)
    body = {"old_password": PASSWORD, "new_password": "another long passphrase 42"}
    assert here.send("POST", "/api/v1/auth/password/", body).status_code == 204
    assert not stored(there_key)  # the other device's, revoked
    assert not stored(here_key)  # this device's old key, rotated away
    assert stored(here.session_cookie())


@server_side
def test_revoking_one_session_deletes_it_from_the_store(make_client, engine):
    user = make_user()
    laptop, laptop_key = logged_in(make_client, user)
    _, phone_key = logged_in(make_client, user)
    items = {item["current"]: item["id"] for item in laptop.get(SESSIONS).json()}
    assert laptop.delete(f"{SESSIONS}{items[False]}/").status_code == 204
    assert not stored(phone_key)
    assert stored(laptop_key)
    # Revoking the current session by its id is a logout.
    assert laptop.delete(f"{SESSIONS}{items[True]}/").status_code == 204
    assert not stored(laptop_key)


@server_side
def test_deactivating_a_user_deletes_their_sessions_from_the_store(make_client, engine):
    user = make_user()
    keys = [logged_in(make_client, user)[1] for _ in range(2)]
    user.is_active = False
    user.save()
    assert [stored(key) for key in keys] == [False, False]


@server_side
@pytest.mark.parametrize("action", ["revoke", "delete_selected"])
def test_the_admin_deletes_a_revoked_session_from_the_store(make_client, engine, action):
    user = make_user()
    _, key = logged_in(make_client, user)
    admin = make_client()
    admin.force_login(make_user(is_staff=True, is_superuser=True))
    row = UserSession.objects.get(user=user)
    response = admin.post(
        "/admin/sessions_api/usersession/",
        {"action": action, "_selected_action": [row.pk], "post": "yes"},
        format="multipart",
        HTTP_X_CSRFTOKEN=admin.cookies[settings.CSRF_COOKIE_NAME].value,
    )
    assert response.status_code == 302, response.content[:500]
    assert not UserSession.objects.filter(user=user).exists()
    assert not stored(key)


# --- The registry ----------------------------------------------------------------------


def test_the_registry_keeps_address_and_user_agent_and_a_hash_never_the_key(engine):
    user_agent = "ReadmeProbe/1.0 " + "x" * 300  # longer than the registry keeps
    device = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=user_agent)
    device.csrf()
    login(device, make_user())
    key = device.session_cookie()
    assert key

    (item,) = device.get(SESSIONS).json()
    assert item["ip"] == "203.0.113.7"
    assert item["user_agent"] == user_agent[:256]
    row = UserSession.objects.get()
    assert (row.ip, row.user_agent) == ("203.0.113.7", user_agent[:256])
    # The key is in no column, however stored: read the table as the database has it.
    table = connection.ops.quote_name(UserSession._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table name
        columns = [str(value) for value in cursor.fetchone()]
    assert not [value for value in columns if key in value]
    if engine == "signed_cookies":
        assert row.sealed_key == ""  # nothing on the server to delete later
    else:
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert unseal(row.sealed_key) == key  # sealed, so revocation can delete it


# --- Registration throttle -------------------------------------------------------------


@pytest.mark.django_db
@override_settings(REGISTER_THROTTLE_RATE="2/hour")
def test_registration_is_throttled_per_client_address():
    def register(address: str, username: str):
        browser = Client(REMOTE_ADDR=address)
        browser.csrf()
        body = {"username": username, "password": PASSWORD}
        return browser.send("POST", "/api/v1/auth/register/", body)

    assert register("198.51.100.1", "first").status_code == 201
    assert register("198.51.100.1", "second").status_code == 201
    refused = register("198.51.100.1", "third")
    problem(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    assert not get_user_model().objects.filter(username="third").exists()
    # Another address has its own count.
    assert register("198.51.100.2", "third").status_code == 201


@override_settings(REGISTER_THROTTLE_RATE="3/hour")
def test_parallel_registrations_from_one_address_cannot_pass_the_rate(transactional_db):
    browsers = [Client(REMOTE_ADDR="198.51.100.3") for _ in range(8)]
    for browser in browsers:
        browser.csrf()
    statuses: list[int] = []

    def register(number: int) -> None:
        try:
            body = {"username": f"parallel{number}", "password": PASSWORD}
            statuses.append(
                browsers[number].send("POST", "/api/v1/auth/register/", body).status_code
            )
        finally:
            connections.close_all()  # this thread's own database connection

    threads = [threading.Thread(target=register, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 3 + [429] * 5
    assert get_user_model().objects.filter(username__startswith="parallel").count() == 3


# --- SESSION_SAVE_EVERY_REQUEST ----------------------------------------------------------


def _stored_lifetime(engine: str, key: str, *, shorten_to: float | None = None) -> float:
    """Seconds the store will keep the session ``key`` (first cut to ``shorten_to``),
    as each server-side store itself counts them: a row's ``expire_date``, a file's
    modification time, a Redis entry's TTL."""
    if engine in {"db", "cached_db"}:
        rows = Session.objects.filter(pk=key)
        if shorten_to is not None:
            rows.update(expire_date=timezone.now() + timedelta(seconds=shorten_to))
        return (rows.get().expire_date - timezone.now()).total_seconds()
    if engine == "file":
        path = Path(settings.SESSION_FILE_PATH) / f"{settings.SESSION_COOKIE_NAME}{key}"
        if shorten_to is not None:
            written = time.time() - (settings.SESSION_COOKIE_AGE - shorten_to)
            os.utime(path, (written, written))
        return settings.SESSION_COOKIE_AGE - (time.time() - path.stat().st_mtime)
    assert engine == "cache", engine
    cache = caches[settings.SESSION_CACHE_ALIAS]
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    redis_key = cache.make_key(store.cache_key)
    client = redis_client(cache, key=redis_key, write=True)
    if shorten_to is not None:
        client.expire(redis_key, int(shorten_to))
    return float(client.ttl(redis_key))


def test_save_every_request_makes_a_read_save_the_session(client, engine):
    assert client.send("PUT", key_url("theme"), {"value": "dark"}).status_code == 201
    key = client.session_cookie()
    assert key
    server_side = engine != "signed_cookies"
    # Off (the default): a read sends no cookie and leaves the stored copy alone.
    if server_side:
        _stored_lifetime(engine, key, shorten_to=60)
    response = client.get(KEYS)
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    if server_side:
        assert _stored_lifetime(engine, key) <= 60

    with override_settings(SESSION_SAVE_EVERY_REQUEST=True):
        response = client.get(KEYS)
        assert response.json() == [{"key": "theme", "value": "dark"}]
        # The cookie, and so the browser's copy and its lifetime, is sent again...
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
        # ...and the store's copy was saved: its lifetime is whole again.
        if server_side:
            assert cookie.value == key
            assert _stored_lifetime(engine, key) > settings.SESSION_COOKIE_AGE - 600
        # An anonymous caller without a session still gets none.
        fresh = Client()
        assert fresh.get("/api/v1/session/").json()["id"] is None
        assert settings.SESSION_COOKIE_NAME not in fresh.cookies
