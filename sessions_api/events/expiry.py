"""When an open stream's session expires, asked again once its expiry has passed."""

from __future__ import annotations

from django.utils import timezone

from sessions_api.engines import configured_store
from sessions_api.models import UserSession


def session_expiry_check(*, session_key: str | None, key_hash: str) -> float | None:
    """When a session now expires (Unix time): None when it has ended, else the later
    time it was renewed to (by a request since the stream opened).

    A server-side session is read again from its store. A signed cookie cannot be read
    again (the browser may hold a newer one than the stream's): a login is judged by its
    registry row, whose expiry each request of the login refreshes; an anonymous signed
    session has ended with its cookie's own expiry.
    """
    store = configured_store()
    if store.server_side:
        session = store(session_key=session_key)
        if session.identity() is None:
            return None
        return session.get_expiry_date().timestamp()
    row = UserSession.objects.filter(key_hash=key_hash, expires_at__gt=timezone.now()).first()
    return row.expires_at.timestamp() if row is not None else None
