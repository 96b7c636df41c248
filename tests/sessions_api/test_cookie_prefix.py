"""A ``__Host-`` session cookie name works, and one a browser would drop is refused.

``__Host-`` asks the browser to keep the cookie only when it is ``Secure``, has no
``Domain`` and the path ``/``: no subdomain and no other path can set or shadow it.
The whole flow runs over HTTPS (``secure=True``) with such a name on every engine.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from sessions_api.checks import cookie_prefix_check
from tests.factories import PASSWORD, make_user

HOST_COOKIE = "__Host-sessionid"
HTTPS = {"secure": True, "HTTP_ORIGIN": "https://testserver"}


def set_cookie_line(response, name: str) -> str:
    """The ``Set-Cookie`` header line of one cookie, as a browser receives it."""
    return response.cookies[name].output(header="").strip()


@override_settings(SESSION_COOKIE_NAME=HOST_COOKIE, SESSION_COOKIE_SECURE=True)
def test_a_host_prefixed_session_cookie_works_over_https(client, engine):
    from django.conf import settings

    assert settings.SESSION_COOKIE_DOMAIN is None and settings.SESSION_COOKIE_PATH == "/"
    assert cookie_prefix_check(None) == []
    put = client.send("PUT", "/api/v1/session/keys/theme/", {"value": "dark"}, **HTTPS)
    assert put.status_code == 201, put.content
    line = set_cookie_line(put, HOST_COOKIE)
    assert line.startswith(f"{HOST_COOKIE}=")
    attributes = {part.strip().split("=")[0].lower() for part in line.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
    assert "Path=/;" in line + ";"
    assert client.get("/api/v1/session/keys/theme/", **HTTPS).json()["value"] == "dark"

    user = make_user()
    body = {"username": user.username, "password": PASSWORD}
    login = client.send("POST", "/api/v1/auth/login/", body, **HTTPS)
    assert login.status_code == 200, login.content
    assert "Secure" in set_cookie_line(login, HOST_COOKIE)
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert client.get("/api/v1/auth/me/", **HTTPS).json()["username"] == user.username
    assert client.get("/api/v1/session/", **HTTPS).json()["keys"] == 1
    assert client.send("POST", "/api/v1/auth/logout/", **HTTPS).status_code == 204
    assert client.get("/api/v1/auth/me/", **HTTPS).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        ({"SESSION_COOKIE_SECURE": False}, ["SESSION_COOKIE_SECURE is off"]),
        ({"SESSION_COOKIE_DOMAIN": "example.com"}, ["SESSION_COOKIE_DOMAIN is set"]),
        ({"SESSION_COOKIE_PATH": "/api/"}, ["SESSION_COOKIE_PATH is not '/'"]),
        (
            {"SESSION_COOKIE_SECURE": False, "SESSION_COOKIE_DOMAIN": ".example.com"},
            ["SESSION_COOKIE_SECURE is off", "SESSION_COOKIE_DOMAIN is set"],
        ),
    ],
)
def test_a_host_cookie_a_browser_would_drop_is_an_error(overrides, problems):
    settings = {"SESSION_COOKIE_NAME": HOST_COOKIE, "SESSION_COOKIE_SECURE": True, **overrides}
    with override_settings(**settings):
        errors = cookie_prefix_check(None)
    assert [error.id for error in errors] == ["sessions_api.E002"], errors
    assert all(problem in errors[0].msg for problem in problems), errors[0].msg


@pytest.mark.parametrize(
    ("settings", "errors"),
    [
        ({"CSRF_COOKIE_NAME": "__Secure-csrftoken"}, 1),
        ({"CSRF_COOKIE_NAME": "__Secure-csrftoken", "CSRF_COOKIE_SECURE": True}, 0),
        ({"CSRF_COOKIE_NAME": "__host-csrftoken", "CSRF_COOKIE_SECURE": True}, 0),
        ({"CSRF_COOKIE_NAME": "__SECURE-csrftoken"}, 1),
        ({"CSRF_COOKIE_NAME": "__HOST-csrftoken", "CSRF_COOKIE_PATH": "/x/"}, 1),
        ({"SESSION_COOKIE_NAME": "__Secure-id"}, 1),
        ({"SESSION_COOKIE_NAME": "__Secure-id", "SESSION_COOKIE_DOMAIN": "example.com"}, 1),
        ({"SESSION_COOKIE_NAME": "plain", "SESSION_COOKIE_DOMAIN": "example.com"}, 0),
    ],
)
def test_the_prefixes_are_checked_for_both_cookies_whatever_the_case(settings, errors):
    with override_settings(**settings):
        assert len(cookie_prefix_check(None)) == errors
