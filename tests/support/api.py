"""The API's paths the tests share, and the steps they all take (log in, list keys)."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings

from tests.factories import PASSWORD

KEYS = "/api/v1/session/keys/"
LOGIN = "/api/v1/auth/login/"
SESSIONS = "/api/v1/auth/sessions/"


def key_url(key: str) -> str:
    return f"{KEYS}{quote(key, safe='')}/"


def listing(client) -> dict:
    response = client.get(KEYS)
    assert response.status_code == 200
    return {item["key"]: item["value"] for item in response.json()}


def login(client, user, password: str = PASSWORD):
    response = client.send("POST", LOGIN, {"username": user.username, "password": password})
    assert response.status_code == 200, response.content
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies[settings.CSRF_COOKIE_NAME].value)
    return response


def replay(client_class, cookie: str):
    other = client_class()
    other.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return other
