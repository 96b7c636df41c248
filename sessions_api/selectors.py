"""Reads of the caller's session, shaped for the API (no writes here)."""

from __future__ import annotations

import re
import weakref
from datetime import UTC, datetime
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from rest_framework.exceptions import NotFound

from sessions_api.conf import app_settings
from sessions_api.engines import ApiSessionStore, api_session, configured_store
from sessions_api.engines.base import ENDS_KEY
from sessions_api.models import RetiredOwnerToken, UserSession
from sessions_api.policy import (
    OWNER_KEY,
    SIGNED_COOKIE_HEADROOM_BYTES,
    client_items,
    json_size,
    key_validate,
)

# A public session id: the first 12 hex characters of its key hash.
PUBLIC_ID = re.compile(r"[0-9a-f]{12}")


def session_engine_name() -> str:
    """The short name of the configured engine (``db``, ``file``, ...)."""
    return configured_store().engine_name


def session_owner_token(*, session: ApiSessionStore) -> str | None:
    """The anonymous owner token of this session, if it has a live one (never creates it).

    A retired token (its session logged in since, and this is a copy of the cookie from
    before) is none: it owns nothing.
    """
    token = session.get(OWNER_KEY)
    if not isinstance(token, str):
        return None
    if _live_owner_tokens.get(session) == token:
        return token
    if RetiredOwnerToken.objects.is_retired(token=token):
        return None
    _live_owner_tokens[session] = token
    return token


# The owner token each session store (one request's) was found to hold unretired, so the
# lookup runs once a request however many parts of it ask. It goes with the store: a
# token retired by another request from now on is seen by the next request, as before,
# and one retired by this request has left its session (session_owner_token_retire).
_live_owner_tokens: weakref.WeakKeyDictionary[SessionBase, str] = weakref.WeakKeyDictionary()


def session_ends_at(*, session: ApiSessionStore) -> datetime | None:
    """When this session ends at the latest, whatever its expiry: the end of its login
    (``SESSION_API_MAX_LOGIN_AGE`` after it began), or None for an anonymous session."""
    ends = session.get(ENDS_KEY)
    if not isinstance(ends, int) or isinstance(ends, bool):
        return None
    return datetime.fromtimestamp(ends, tz=UTC)


def session_keys_list(*, session: ApiSessionStore) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in client_items(session).items()]


def session_key_get(*, session: ApiSessionStore, key: str) -> dict[str, Any]:
    key_validate(key=key)
    try:
        return {"key": key, "value": session[key]}
    except KeyError:
        raise NotFound(f"The session has no key {key!r}.") from None


def session_expiry_get(*, session: ApiSessionStore) -> dict[str, Any]:
    custom = session.get("_session_expiry")
    if custom is None:
        policy = "default"
    elif custom == 0:
        policy = "browser_close"
    elif isinstance(custom, str):
        policy = "datetime"
    else:
        policy = "seconds"
    return {
        "age": session.get_expiry_age(),
        "expires_at": session.get_expiry_date(),
        "at_browser_close": session.get_expire_at_browser_close(),
        "policy": policy,
    }


def session_storage(*, session: ApiSessionStore, client_data: dict[str, Any]) -> dict[str, Any]:
    """Where the data lives and how much of the allowance it uses."""
    used = json_size(client_data)
    limit = app_settings.SESSION_API_MAX_SESSION_BYTES
    cookie_limit = session.cookie_limit_bytes
    if cookie_limit is not None:
        # What still fits in the cookie, as raw JSON: base64 turns 3 bytes into 4, and
        # this assumes the data does not compress (it often does, so more may fit).
        free = cookie_limit - SIGNED_COOKIE_HEADROOM_BYTES
        free -= session.projected_cookie_bytes(dict(session.items()))
        limit = min(limit, used + max(0, free) * 3 // 4)
    return {
        "server_side": session.server_side,
        "bytes_used": used,
        "bytes_limit": limit,
        "keys_limit": app_settings.SESSION_API_MAX_KEYS,
    }


def session_detail(*, request: HttpRequest) -> dict[str, Any]:
    """The session object for the caller's session (never creating one, never writing)."""
    session = api_session(request)
    fingerprint = session.fingerprint()
    client_data = client_items(session)
    user = request.user if request.user.is_authenticated else None
    # Bookkeeping keys alone (the expiry stamp) are not "data".
    internal = set(session.keys()) - set(client_data) - session.bookkeeping_keys - {OWNER_KEY}
    return {
        "id": fingerprint,
        "engine": session.engine_name,
        "is_empty": not client_data and not internal,
        "keys": len(client_data),
        "user": {"id": user.pk, "username": user.get_username()} if user else None,
        "expiry": session_expiry_get(session=session),
        "storage": session_storage(session=session, client_data=client_data),
    }


# --- Accounts ------------------------------------------------------------------------


def user_detail(*, user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.get_username(),
        "email": user.email,
        "is_staff": user.is_staff,
    }


def user_sessions_list(*, request: HttpRequest, user: Any) -> list[dict[str, Any]]:
    """The user's live sessions on every device, most recently seen first."""
    current = api_session(request).key_hash()
    return [
        {
            "id": row.public_id,
            "current": row.key_hash == current,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "ip": row.ip,
            "user_agent": row.user_agent,
            "expires_at": row.expires_at,
        }
        for row in UserSession.objects.live_for(user=user)
    ]


def user_session_get(*, user: Any, public_id: str) -> UserSession:
    """One of the user's sessions by its public id; 404 for anything else."""
    if not PUBLIC_ID.fullmatch(public_id):
        raise NotFound("No such session.")
    row = UserSession.objects.filter(user=user, key_hash__startswith=public_id).first()
    if row is None:
        raise NotFound("No such session.")
    return row
