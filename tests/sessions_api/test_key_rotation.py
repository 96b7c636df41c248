"""Rotating SECRET_KEY (old key in SECRET_KEY_FALLBACKS) logs no one out, on every engine,
and revoking a login still deletes its server-side copy, whose key the registry keeps
sealed with a key derived from SECRET_KEY."""

from __future__ import annotations

import secrets
from importlib import import_module

from django.conf import settings
from django.test import override_settings

from tests.factories import make_user
from tests.support.api import SESSIONS, login
from tests.support.problems import problem

ME = "/api/v1/auth/me/"


def stored(key: str | None) -> bool:
    """Whether the configured engine's store holds a session under ``key``."""
    return bool(key) and import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


def test_after_a_rotation_logins_go_on_and_revocation_deletes_the_copy(make_client, engine):
    user = make_user()
    laptop, phone = make_client(), make_client()
    login(laptop, user)
    login(phone, user)
    phone_key = phone.session_cookie()
    server_side = engine != "signed_cookies"
    assert stored(phone_key) is server_side
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY=secrets.token_urlsafe(50), SECRET_KEY_FALLBACKS=[old]):
        assert laptop.get(ME).status_code == 200
        # The phone's registry row is still sealed with the old key.
        assert laptop.send("DELETE", SESSIONS).json() == {"revoked": 1}
        assert not stored(phone_key)
        problem(phone.get(ME), 403, "not_authenticated")
        assert laptop.get(ME).status_code == 200


def test_a_login_seen_after_the_rotation_no_longer_needs_the_old_key(make_client, engine):
    user = make_user()
    phone = make_client()
    login(phone, user)
    old, new = settings.SECRET_KEY, secrets.token_urlsafe(50)
    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[old]):
        assert phone.get(ME).status_code == 200  # Django moves the login to the new key
    phone_key = phone.session_cookie()
    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[]):  # the old key retired
        assert phone.get(ME).status_code == 200
        assert stored(phone_key) is (engine != "signed_cookies")
        laptop = make_client()
        login(laptop, user)
        assert laptop.send("DELETE", SESSIONS).json() == {"revoked": 1}
        assert not stored(phone_key)
        problem(phone.get(ME), 403, "not_authenticated")
