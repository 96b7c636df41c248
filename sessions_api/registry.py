"""The registry of logged-in sessions: record, check, re-key and revoke.

Every login gets a ``UserSession`` row; every request of a logged-in session checks
that its row still exists (one indexed lookup, see ``user_session_check``); logout and
revocation delete the row and, for server-side engines, the session in its store. A
session whose row is gone is anonymous on its next request on every engine, including
a replayed copy of a signed cookie.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable
from datetime import timedelta
from importlib import import_module
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone

from sessions_api.models import UserSession

logger = logging.getLogger(__name__)

# Last-seen is written at most this often per session: no write on every request.
LAST_SEEN_EVERY = timedelta(seconds=60)
USER_AGENT_MAX = 256


# --- Sealing the key ---------------------------------------------------------------


def _fernet() -> MultiFernet:
    """Fernet keys derived from SECRET_KEY (and its fallbacks, to read old rows)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    keys = [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"user-session:{s}".encode()).digest()))
        for s in secrets
    ]
    return MultiFernet(keys)


def _seal(session_key: str) -> str:
    return _fernet().encrypt(session_key.encode()).decode()


def _unseal(sealed: str) -> str | None:
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


# --- Request facts -----------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting ``TRUSTED_PROXY_COUNT`` proxies in front.

    With N trusted proxies, the client is the N-th address from the right of
    X-Forwarded-For; with none (the default) the header is ignored, since any client
    can send it.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR") or None


def _user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]


def _engine_name(session: SessionBase) -> str:
    return getattr(type(session), "engine_name", "") or settings.SESSION_API_ENGINE


# --- Services ------------------------------------------------------------------------


def user_session_record(*, request: HttpRequest, user: Any) -> UserSession | None:
    """Register the session ``request`` just logged ``user`` into."""
    session = request.session
    if not session.session_key and getattr(type(session), "server_side", True):
        session.save()  # a server-side session needs its key now, not at response time
    key_hash = session.key_hash()
    if not key_hash:
        return None
    server_side = getattr(type(session), "server_side", True)
    now = timezone.now()
    row, _ = UserSession.objects.update_or_create(
        key_hash=key_hash,
        defaults={
            "user": user,
            "sealed_key": _seal(session.session_key) if server_side else "",
            "engine": _engine_name(session),
            "last_seen_at": now,
            "expires_at": session.get_expiry_date(),
            "ip": client_ip(request),
            "user_agent": _user_agent(request),
        },
    )
    return row


def user_session_rekey(*, old_hash: str, session: SessionBase) -> None:
    """A logged-in session changed its key (cycle_key): follow it in the registry."""
    server_side = getattr(type(session), "server_side", True)
    UserSession.objects.filter(key_hash=old_hash).update(
        key_hash=session.key_hash(),
        sealed_key=_seal(session.session_key) if server_side and session.session_key else "",
    )


def user_session_forget(*, session: SessionBase) -> None:
    """The session is logging out: drop its row (the caller flushes the session)."""
    key_hash = session.key_hash()
    if key_hash:
        UserSession.objects.filter(key_hash=key_hash).delete()


def user_session_check(*, request: HttpRequest, user_id: Any) -> bool:
    """Is this logged-in session still registered? Also refreshes last-seen, cheaply.

    One indexed lookup; a write only when last-seen is over a minute old.
    """
    session = request.session
    key_hash = session.key_hash()
    if not key_hash:
        return False
    row = (
        UserSession.objects.filter(key_hash=key_hash, user_id=user_id)
        .only("pk", "last_seen_at")
        .first()
    )
    if row is None:
        return False
    now = timezone.now()
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        UserSession.objects.filter(pk=row.pk).update(
            last_seen_at=now,
            expires_at=session.get_expiry_date(),
            ip=client_ip(request),
            user_agent=_user_agent(request),
        )
    return True


def user_sessions_revoke(*, rows: Iterable[UserSession]) -> int:
    """Log the given sessions out at once; return how many there were.

    Deletes each row (which alone ends the login on every engine) and, for a
    server-side engine, the session itself from its store.
    """
    count = 0
    for row in rows:
        key = _unseal(row.sealed_key)
        if key:
            try:
                store = import_module(_engine_module(row.engine)).SessionStore
                store(session_key=key).delete()
            except Exception:
                # The row's deletion below is what ends the login; a store that is
                # briefly unreachable only delays reclaiming the space.
                logger.warning("Could not delete revoked session %s from its store", row.public_id)
        row.delete()
        count += 1
    return count


def user_sessions_revoke_all(*, user: Any, except_hash: str | None = None) -> int:
    """Revoke every session of ``user`` except the one whose hash is ``except_hash``."""
    rows = UserSession.objects.filter(user=user)
    if except_hash:
        rows = rows.exclude(key_hash=except_hash)
    return user_sessions_revoke(rows=list(rows))


def _engine_module(name: str) -> str:
    from api_project.config import SESSION_ENGINES

    return SESSION_ENGINES.get(name, settings.SESSION_ENGINE)
