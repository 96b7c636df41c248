"""A session's store read directly, outside a request, as the configured engine keeps it."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core import signing

from sessions_api.engines.base import ApiSessionStore
from sessions_api.engines.signed_cookies import SALT


def store_of(cookie: str) -> ApiSessionStore:
    """The configured engine's store for a session cookie, read outside a request."""
    store: ApiSessionStore = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie)
    return store


def stored_form(cookie: str) -> dict[str, Any] | None:
    """What the configured engine keeps for a session, its own stamps included (a
    loaded session's dict holds none of them), or None when nothing is stored."""
    store = store_of(cookie)
    if not store.server_side:
        stored: dict[str, Any] = signing.loads(cookie, salt=SALT, serializer=store.serializer)
        return stored
    with store.locked_stored() as found:
        return found


def two_requests_on_one_session(engine: str) -> tuple[type, str, Any, Any]:
    """A seeded session (``{"seed": 0}``) and two stores that have both loaded it, as two
    overlapping requests would: (store class, session key, first, second). Not for
    signed cookies: they live in the browser, where the last response wins."""
    assert engine != "signed_cookies", "select engines(*SERVER_SIDE) for this test"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    seeded = store()
    seeded["seed"] = 0
    seeded.save()
    key = seeded.session_key
    first, second = store(session_key=key), store(session_key=key)
    first.keys(), second.keys()
    return store, key, first, second


def client_data(store: type, key: str) -> dict[str, Any]:
    """What a fresh request reads from the session, minus the server's ``_`` keys."""
    return {k: v for k, v in store(session_key=key).items() if not k.startswith("_")}
