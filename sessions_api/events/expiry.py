"""When an open stream's session expires, asked again once its expiry has passed."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from sessions_api.engines import configured_store
from sessions_api.models import UserSession


def session_expiry_check(
    *, session_key: str | None, key_hash: str, since: datetime
) -> float | None:
    """When a session now expires (Unix time): None when it has ended, else the later
    time it was renewed to (by a request since the stream opened).

    A server-side session is read again from its store. A signed cookie cannot be read
    again (the browser may hold a newer one than the stream's cookie): it lives on only
    when a request of its login was seen ``since`` the stream opened (each refreshes the
    registry row's expiry, at most once a minute), until that row's expiry; otherwise
    it has ended with the stream's cookie's own expiry.
    """
    store = configured_store()
    if store.server_side:
        session = store(session_key=session_key)
        if session.identity() is None:
            return None
        return session.get_expiry_date().timestamp()
    row = UserSession.objects.filter(
        key_hash=key_hash, last_seen_at__gt=since, expires_at__gt=timezone.now()
    ).first()
    return row.expires_at.timestamp() if row is not None else None
