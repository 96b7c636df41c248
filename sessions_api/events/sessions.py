"""Session events: a session ended or changed key, told to the streams it has open.

Every way a session ends or rotates announces it on the session's channel (by the hash
of its identity, on every engine: ``signed_cookies`` sessions have one too), with the
reason the contract names: ``logout``, ``revoked``, ``flushed``, ``password_changed``,
``rotated`` (and ``expired``, which a stream notices itself when the session's expiry
passes). Logouts are heard from Django's ``user_logged_out`` signal, so every logout
(the admin's too) is announced; a service that ends a session for another reason names
it with ``session_end_reason()`` around the logout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, get_args

from sessions_api.engines import configured_store
from sessions_api.engines.base import FINGERPRINT_LENGTH, key_hash_of
from sessions_api.events.store import event_publish_quietly, session_channel, store_config

SessionReason = Literal["logout", "revoked", "flushed", "password_changed", "expired", "rotated"]
SESSION_REASONS: tuple[str, ...] = get_args(SessionReason)

_reason: ContextVar[SessionReason] = ContextVar("session_end_reason", default="logout")


@contextmanager
def session_end_reason(reason: SessionReason) -> Iterator[None]:
    """Logouts inside the block are announced with ``reason`` instead of ``logout``."""
    token = _reason.set(reason)
    try:
        yield
    finally:
        _reason.reset(token)


def current_end_reason() -> SessionReason:
    return _reason.get()


def session_event_data(*, key_hash: str, reason: SessionReason) -> str:
    """The ``session`` event's data: the session's public id and the reason."""
    return json.dumps(
        {"id": key_hash[:FINGERPRINT_LENGTH], "reason": reason}, separators=(",", ":")
    )


def session_event_publish(*, key_hash: str | None, reason: SessionReason) -> None:
    """Announce that the session known by ``key_hash`` ended or rotated (no-op without
    a session, or without an event store)."""
    if not key_hash or store_config() is None:
        return
    event_publish_quietly(
        channel=session_channel(key_hash=key_hash),
        event="session",
        data=session_event_data(key_hash=key_hash, reason=reason),
    )


def session_claimed_hash(*, cookie: str | None) -> str | None:
    """The key hash of the session a cookie names, whether or not that session lives on.

    A stream opened with the cookie of a session that has since ended (revoked while
    the tab was offline) follows that session's channel, and so hears why it ended.
    For a server-side engine the cookie is the key; a signed cookie carries its
    session's id, readable while its signature and its own expiry hold.
    """
    if not cookie:
        return None
    store = configured_store()
    if store.server_side:
        return key_hash_of(cookie)
    return store(session_key=cookie).key_hash()


__all__ = [
    "SESSION_REASONS",
    "SessionReason",
    "current_end_reason",
    "session_claimed_hash",
    "session_end_reason",
    "session_event_data",
    "session_event_publish",
]
