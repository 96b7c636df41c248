"""Session authentication for SPAs, on every engine: login, logout, devices, revocation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from tests.factories import PASSWORD, make_user
from tests.support.api import LOGIN, SESSIONS, key_url, listing, login, replay
from tests.support.engines import SERVER_SIDE, any_engine
from tests.support.problems import problem


def test_login_rotates_key_and_csrf_and_keeps_anonymous_keys(client, engine):
    user = make_user()
    client.send("PUT", key_url("cart"), {"value": ["apple"]})
    before_id = client.get("/api/v1/session/").json()["id"]
    before_cookie = client.session_cookie()
    before_csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.send("POST", LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "is_staff": False,
    }
    assert client.session_cookie() != before_cookie
    assert client.cookies[settings.CSRF_COOKIE_NAME].value != before_csrf
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies[settings.CSRF_COOKIE_NAME].value)
    session = client.get("/api/v1/session/").json()
    assert session["id"] != before_id
    assert session["user"] == {"id": user.pk, "username": user.username}
    assert listing(client) == {"cart": ["apple"]}
    assert client.get("/api/v1/auth/me/").json()["username"] == user.username
    # The pre-login cookie does not carry the login.
    assert replay(type(client), before_cookie).get("/api/v1/auth/me/").status_code == 403


@any_engine
def test_wrong_password_is_invalid_credentials(client, engine):
    user = make_user()
    response = client.send("POST", LOGIN, {"username": user.username, "password": "nope"})
    problem(response, 400, "invalid_credentials")
    problem(
        client.send("POST", LOGIN, {"username": "ghost", "password": "x"}),
        400,
        "invalid_credentials",
    )
    problem(client.get("/api/v1/auth/me/"), 403, "not_authenticated")


def test_logout_then_replaying_the_old_cookie_is_anonymous(client, engine):
    user = make_user()
    login(client, user)
    cookie = client.session_cookie()
    assert client.send("POST", "/api/v1/auth/logout/").status_code == 204
    problem(client.get("/api/v1/auth/me/"), 403, "not_authenticated")
    accepted = 0
    for _ in range(100):
        response = replay(type(client), cookie).get("/api/v1/auth/me/")
        accepted += response.status_code == 200
    assert accepted == 0
    # Logging out when not logged in is fine too.
    client.csrf()
    assert client.send("POST", "/api/v1/auth/logout/").status_code == 204


def test_two_devices_list_and_revoke(make_client, engine):
    user = make_user()
    laptop, phone = make_client(), make_client()
    login(laptop, user)
    login(phone, user)
    items = laptop.get(SESSIONS).json()
    assert len(items) == 2
    assert [item["current"] for item in items].count(True) == 1
    mine = next(item for item in items if item["current"])
    assert mine["id"] == laptop.get("/api/v1/session/").json()["id"]
    assert set(mine) == {
        "id",
        "current",
        "created_at",
        "last_seen_at",
        "ip",
        "user_agent",
        "expires_at",
    }
    phone_cookie = phone.session_cookie()
    other = next(item for item in items if not item["current"])
    assert laptop.delete(f"{SESSIONS}{other['id']}/").status_code == 204
    problem(phone.get("/api/v1/auth/me/"), 403, "not_authenticated")
    problem(replay(type(phone), phone_cookie).get("/api/v1/auth/me/"), 403, "not_authenticated")
    assert laptop.get("/api/v1/auth/me/").status_code == 200
    assert len(laptop.get(SESSIONS).json()) == 1
    problem(laptop.delete(f"{SESSIONS}{other['id']}/"), 404, "not_found")
    problem(laptop.delete(f"{SESSIONS}zzz/"), 404, "not_found")


def test_a_revoked_logins_data_is_never_served_again(make_client, engine):
    """The registry check ends the login before the view reads the session, on every
    engine: a replayed signed cookie still carries the data, and must not show it."""
    user = make_user()
    laptop, phone = make_client(), make_client()
    login(laptop, user)
    login(phone, user)
    assert phone.send("PUT", "/api/v1/session/keys/private/", {"value": "x"}).status_code == 201
    phone_cookie = phone.session_cookie()
    assert laptop.send("DELETE", SESSIONS).json() == {"revoked": 1}
    replayed = replay(type(phone), phone_cookie)
    response = replayed.get("/api/v1/session/keys/")
    assert response.status_code == 200
    assert response.json() == []
    assert replayed.get("/api/v1/session/").json()["user"] is None


@pytest.mark.engines(*SERVER_SIDE)  # signed cookies have no server-side copy
def test_revoking_a_session_deletes_it_from_a_server_side_store(make_client, engine):
    from importlib import import_module

    user = make_user()
    laptop, phone = make_client(), make_client()
    login(laptop, user)
    login(phone, user)
    phone_key = phone.session_cookie()
    store = import_module(settings.SESSION_ENGINE).SessionStore
    assert store().exists(phone_key)
    assert laptop.send("DELETE", SESSIONS).json() == {"revoked": 1}
    assert not store().exists(phone_key)


def test_revoke_others_counts_and_keeps_this_one(make_client, engine):
    user = make_user()
    clients = [make_client() for _ in range(4)]
    for each in clients:
        login(each, user)
    response = clients[0].send("DELETE", SESSIONS)
    assert response.status_code == 200
    assert response.json() == {"revoked": 3}
    assert clients[0].get("/api/v1/auth/me/").status_code == 200
    for each in clients[1:]:
        problem(each.get("/api/v1/auth/me/"), 403, "not_authenticated")
    assert clients[0].send("DELETE", SESSIONS).json() == {"revoked": 0}


def test_password_change_logs_out_the_others_and_keeps_this_one(make_client, engine):
    user = make_user()
    here, there = make_client(), make_client()
    login(here, user)
    login(there, user)
    there_cookie = there.session_cookie()
    old_key = here.session_cookie()
    old_csrf = here.cookies[settings.CSRF_COOKIE_NAME].value
    response = here.send(
        "POST",
        "/api/v1/auth/password/",
        {"old_password": PASSWORD, "new_password": "another long passphrase 42"},
    )
    assert response.status_code == 204, response.content
    assert here.session_cookie() != old_key
    assert here.cookies[settings.CSRF_COOKIE_NAME].value != old_csrf
    assert here.get("/api/v1/auth/me/").status_code == 200
    assert [item["current"] for item in here.get(SESSIONS).json()] == [True]
    problem(there.get("/api/v1/auth/me/"), 403, "not_authenticated")
    problem(replay(type(there), there_cookie).get("/api/v1/auth/me/"), 403, "not_authenticated")
    problem(replay(type(here), old_key).get("/api/v1/auth/me/"), 403, "not_authenticated")
    # The new password works, the old one does not.
    fresh = make_client()
    problem(
        fresh.send("POST", LOGIN, {"username": user.username, "password": PASSWORD}),
        400,
        "invalid_credentials",
    )
    login(fresh, user, "another long passphrase 42")


def test_cycle_while_logged_in_keeps_the_login(client, engine):
    user = make_user()
    login(client, user)
    old = client.session_cookie()
    assert client.send("POST", "/api/v1/session/cycle/").status_code == 200
    assert client.get("/api/v1/auth/me/").status_code == 200
    assert [item["current"] for item in client.get(SESSIONS).json()] == [True]
    problem(replay(type(client), old).get("/api/v1/auth/me/"), 403, "not_authenticated")


def test_flushing_the_session_logs_out(client, engine):
    login(client, make_user())
    assert client.delete("/api/v1/session/").status_code == 204
    problem(client.get("/api/v1/auth/me/"), 403, "not_authenticated")


def test_register_logs_in_and_keeps_keys(client, engine):
    client.send("PUT", key_url("draft"), {"value": 1})
    response = client.send(
        "POST",
        "/api/v1/auth/register/",
        {"username": "ana", "password": PASSWORD, "email": "ana@example.com"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "ana" and response.json()["is_staff"] is False
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies[settings.CSRF_COOKIE_NAME].value)
    assert client.get("/api/v1/auth/me/").json()["email"] == "ana@example.com"
    assert listing(client) == {"draft": 1}
    body = problem(
        client.send("POST", "/api/v1/auth/register/", {"username": "ana", "password": PASSWORD}),
        400,
        "invalid",
    )
    assert body["errors"][0]["field"] == "username"


@override_settings(ALLOW_REGISTRATION=False)
@any_engine
def test_registration_can_be_turned_off(client, engine):
    problem(
        client.send("POST", "/api/v1/auth/register/", {"username": "bo", "password": PASSWORD}),
        404,
        "not_found",
    )


def test_deactivating_a_user_ends_their_sessions(make_client, engine):
    user = make_user()
    a, b = make_client(), make_client()
    login(a, user)
    login(b, user)
    user.is_active = False
    user.save()
    problem(a.get("/api/v1/auth/me/"), 403, "not_authenticated")
    problem(b.get("/api/v1/auth/me/"), 403, "not_authenticated")
    from sessions_api.models import UserSession

    assert not UserSession.objects.filter(user=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", LOGIN, {"username": "u", "password": "p"}),
        ("POST", "/api/v1/auth/logout/", None),
        ("POST", "/api/v1/auth/register/", {"username": "u", "password": PASSWORD}),
        ("POST", "/api/v1/auth/password/", {"old_password": "a", "new_password": "b"}),
        ("DELETE", SESSIONS, None),
        ("DELETE", f"{SESSIONS}abcdefabcdef/", None),
    ],
)
def test_auth_calls_without_csrf_are_refused(method, path, body):
    from tests.support.clients import Client

    client = Client()
    problem(client.send(method, path, body), 403, "csrf_failed")
    # A logged-in user without the token is refused the same way.
    user = make_user()
    client.force_login(user)
    problem(client.send(method, path, body), 403, "csrf_failed")


@pytest.mark.django_db
def test_anonymous_callers_get_not_authenticated():
    from tests.support.clients import Client

    client = Client()
    client.csrf()
    problem(client.get("/api/v1/auth/me/"), 403, "not_authenticated")
    problem(client.get(SESSIONS), 403, "not_authenticated")
    problem(client.send("DELETE", SESSIONS), 403, "not_authenticated")
    problem(
        client.send("POST", "/api/v1/auth/password/", {"old_password": "a", "new_password": "b"}),
        403,
        "not_authenticated",
    )


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_IP_RATE="5/min", LOGIN_THROTTLE_USERNAME_RATE="3/min")
def test_failed_logins_are_throttled_per_address_and_per_username():
    from tests.support.clients import Client

    make_user(username="victim")
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    attacker.csrf()
    statuses = [
        attacker.send("POST", LOGIN, {"username": "victim", "password": f"guess{i}"}).status_code
        for i in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    throttled = attacker.send("POST", LOGIN, {"username": "victim", "password": "x"})
    problem(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    # Per address: other usernames from the same address run into the address limit.
    statuses = [
        attacker.send("POST", LOGIN, {"username": f"other{i}", "password": "x"}).status_code
        for i in range(3)
    ]
    assert statuses == [400, 400, 429]
    # Someone else, elsewhere, with another username and the right password: not blocked.
    friend = make_user(username="friend")
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    elsewhere.csrf()
    login(elsewhere, friend)
    # Successful logins do not count towards the limit.
    for _ in range(6):
        elsewhere.send("POST", "/api/v1/auth/logout/")
        elsewhere.csrf()
        login(elsewhere, friend)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "a"},
        {"password": "a"},
        {"username": 5, "password": ["x"]},
        {"username": None, "password": None},
        {"username": "a" * 10000, "password": "x"},
        {"username": "a", "password": "x" * 100000},
        {"username": "nul\x00byte", "password": "x"},
        {"username": "\ud800", "password": "x"},
        {"username": 1918, "password": "x"},
        {"username": "a", "password": 12345678},
    ],
)
def test_bad_login_input_is_a_4xx(body):
    import json

    from tests.support.clients import Client

    client = Client()
    client.csrf()
    response = client.generic("POST", LOGIN, json.dumps(body), "application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "invalid_credentials"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "zoë", "password": "short"}, "password"),
        ({"username": "bob", "password": "password"}, "password"),
        ({"username": "bob", "password": "12345678901"}, "password"),
        ({"username": "bad name!", "password": PASSWORD}, "username"),
        ({"username": "x" * 151, "password": PASSWORD}, "username"),
        ({"username": "bob", "password": PASSWORD, "email": "not-an-email"}, "email"),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": 1918, "password": PASSWORD}, "username"),
        ({"username": "bob", "password": 12345678.5}, "password"),
    ],
)
def test_bad_registration_input_names_the_field(body, field):
    from tests.support.clients import Client

    client = Client()
    client.csrf()
    response = problem(client.send("POST", "/api/v1/auth/register/", body), 400, "invalid")
    assert field in {error["field"] for error in response["errors"]}


@pytest.mark.django_db
def test_unicode_usernames_register_and_log_in():
    from tests.support.clients import Client

    client = Client()
    client.csrf()
    response = client.send(
        "POST", "/api/v1/auth/register/", {"username": "zoë_ñ", "password": PASSWORD}
    )
    assert response.status_code == 201, response.content
    other = Client()
    other.csrf()
    assert other.send("POST", LOGIN, {"username": "zoë_ñ", "password": PASSWORD}).status_code == 200


@pytest.mark.django_db
def test_a_fullwidth_twin_of_a_taken_username_is_taken():
    """NFKC makes a fullwidth "foo" "foo": checked as stored, it is a 400, not a 500."""
    from tests.support.clients import Client

    make_user(username="foo")
    client = Client()
    client.csrf()
    body = {"username": "\uff46\uff4f\uff4f", "password": PASSWORD}  # fullwidth
    response = problem(client.send("POST", "/api/v1/auth/register/", body), 400, "invalid")
    assert response["errors"][0]["field"] == "username"
    assert response["errors"][0]["code"] == "unique"


@pytest.mark.django_db
def test_client_address_honours_the_trusted_proxy_count():
    from django.test import RequestFactory

    from sessions_api.client import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2, 3.3.3.3"
    )
    assert client_ip(request) == "10.0.0.9"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) == "3.3.3.3"
    with override_settings(TRUSTED_PROXY_COUNT=2):
        assert client_ip(request) == "2.2.2.2"


def test_a_logged_in_request_checks_its_registry_row_with_one_indexed_query(
    client, engine, django_assert_max_num_queries
):
    """Every request of a logged-in session reads its registry row: one query, on the
    unique (so indexed) key hash; an anonymous request reads none."""
    from sessions_api.models import UserSession

    table = f'"{UserSession._meta.db_table}"'
    assert UserSession._meta.get_field("key_hash").unique

    def registry_queries(captured) -> list[str]:
        return [query["sql"] for query in captured.captured_queries if table in query["sql"]]

    with django_assert_max_num_queries(0 if engine != "db" else 1) as anonymous:
        assert client.get("/api/v1/session/").status_code == 200
    assert registry_queries(anonymous) == []
    login(client, make_user())
    # What a request needs besides: the db engine's session row, and the user.
    budget = (1 if engine == "db" else 0) + 1 + 1
    for path in ("/api/v1/auth/me/", "/api/v1/session/", key_url("missing")):
        with django_assert_max_num_queries(budget) as captured:
            client.get(path)
        (query,) = registry_queries(captured)
        assert query.startswith("SELECT"), query
        assert f'{table}."key_hash" = ' in query, query


def test_last_seen_is_written_at_most_once_a_minute(client, engine):
    from sessions_api.models import UserSession

    login(client, make_user())
    row = UserSession.objects.get()
    first_seen = row.last_seen_at
    for _ in range(5):
        client.get("/api/v1/auth/me/")
    assert UserSession.objects.get().last_seen_at == first_seen
    UserSession.objects.update(last_seen_at=first_seen.replace(year=first_seen.year - 1))
    client.get("/api/v1/auth/me/")
    assert UserSession.objects.get().last_seen_at > first_seen


def test_admin_lists_and_revokes_sessions(make_client, engine):
    from sessions_api.models import UserSession

    staff = make_user(is_staff=True, is_superuser=True)
    user = make_user()
    device = make_client()
    login(device, user)
    admin = make_client()
    admin.force_login(staff)
    page = admin.get("/admin/sessions_api/usersession/")
    assert page.status_code == 200
    row = UserSession.objects.get(user=user)
    assert row.public_id in page.content.decode()
    response = admin.post(
        "/admin/sessions_api/usersession/",
        {"action": "revoke", "_selected_action": [row.pk]},
        format="multipart",
        HTTP_X_CSRFTOKEN=admin.cookies[settings.CSRF_COOKIE_NAME].value,
    )
    # The admin's answer to an action that ran: back to the list, with its message.
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/admin/sessions_api/usersession/"
    listed = admin.get(response["Location"]).content.decode()
    assert "Logged out 1 session(s)." in listed
    assert row.public_id not in listed
    assert not UserSession.objects.filter(user=user).exists()
    problem(device.get("/api/v1/auth/me/"), 403, "not_authenticated")
