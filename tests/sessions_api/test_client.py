"""The client's address: X-Forwarded-For only from trusted proxies, and only an IP address.

The registry stores the address in a GenericIPAddressField (``inet`` on PostgreSQL,
text on SQLite): these tests run on whichever DATABASE_URL names.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from sessions_api.client import client_ip
from sessions_api.models import UserSession
from tests.factories import make_user
from tests.support.api import LOGIN, SESSIONS, login
from tests.support.clients import Client
from tests.support.problems import problem

NOT_ADDRESSES = [
    "not-an-ip",
    "1.2.3.4:8080",
    "[::1]",
    "fe80::1%eth0",  # an IPv6 zone: ipaddress takes it, inet does not
    "999.1.1.1",
    "\uff11.\uff12.\uff13.\uff14",  # fullwidth digits
    "1.2.3.4\x00",
    "<script>",
]


@pytest.mark.parametrize("forwarded", NOT_ADDRESSES)
def test_a_forwarded_value_that_is_no_address_falls_back_to_the_connection(forwarded):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) == "10.0.0.9"


def test_forwarded_addresses_of_either_family_are_taken_from_trusted_proxies():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="2001:db8::7, 192.0.2.1"
    )
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) == "192.0.2.1"
    with override_settings(TRUSTED_PROXY_COUNT=2):
        assert client_ip(request) == "2001:db8::7"


def test_a_connection_address_that_is_no_ip_is_none():
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="unix:/run/gunicorn.sock")) is None


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.parametrize("forwarded", ["not-an-ip", "fe80::1%eth0", "1.2.3.4, x' OR 1=1"])
def test_a_login_behind_a_proxy_never_stores_a_forwarded_value_that_is_no_address(forwarded):
    user = make_user()
    browser = Client(HTTP_X_FORWARDED_FOR=forwarded)
    browser.csrf()
    # A failed login (the throttles key on the address) and a good one: no 500.
    problem(
        browser.send("POST", LOGIN, {"username": user.username, "password": "wrong"}),
        400,
        "invalid_credentials",
    )
    login(browser, user)
    assert UserSession.objects.get().ip == "127.0.0.1"  # the test client's REMOTE_ADDR
    assert browser.get(SESSIONS).json()[0]["ip"] == "127.0.0.1"
