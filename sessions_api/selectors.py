"""Reads of the caller's session, shaped for the API (no writes here)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from rest_framework.exceptions import NotFound

from sessions_api.data import OWNER_KEY, client_items, json_size
from sessions_api.engines.base import EXPIRES_KEY
from sessions_api.engines.signed_cookies import SID_KEY


def session_engine_name(*, session: SessionBase) -> str:
    return getattr(type(session), "engine_name", "") or settings.SESSION_API_ENGINE


def session_fingerprint(*, session: SessionBase) -> str | None:
    """The session's public id (see ``SessionApiStoreMixin.fingerprint``)."""
    fingerprint = getattr(session, "fingerprint", None)
    if fingerprint is None:  # a third-party engine without our mixin
        from sessions_api.engines.base import fingerprint_of

        session.keys()
        return fingerprint_of(session.session_key) if session.session_key else None
    return fingerprint()


def session_owner_token(*, session: SessionBase) -> str | None:
    """The anonymous owner token of this session, if it has one (never creates it)."""
    token = session.get(OWNER_KEY)
    return token if isinstance(token, str) else None


def session_keys_list(*, session: SessionBase) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in client_items(session).items()]


def session_key_get(*, session: SessionBase, key: str) -> dict[str, Any]:
    from sessions_api.services import session_key_validate

    session_key_validate(key=key)
    try:
        return {"key": key, "value": session[key]}
    except KeyError:
        raise NotFound(f"The session has no key {key!r}.") from None


def session_expiry_get(*, session: SessionBase) -> dict[str, Any]:
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


def session_storage(*, session: SessionBase, client_data: dict[str, Any]) -> dict[str, Any]:
    """Where the data lives and how much of the allowance it uses."""
    used = json_size(client_data)
    limit = settings.SESSION_API_MAX_SESSION_BYTES
    server_side = getattr(type(session), "server_side", True)
    projected_cookie_bytes = getattr(session, "projected_cookie_bytes", None)
    if projected_cookie_bytes is not None:
        from sessions_api.engines.signed_cookies import COOKIE_LIMIT_BYTES
        from sessions_api.services import SIGNED_COOKIE_HEADROOM_BYTES

        # What still fits in the cookie, as raw JSON: base64 turns 3 bytes into 4, and
        # this assumes the data does not compress (it often does, so more may fit).
        free = COOKIE_LIMIT_BYTES - SIGNED_COOKIE_HEADROOM_BYTES
        free -= projected_cookie_bytes(dict(session.items()))
        limit = min(limit, used + max(0, free) * 3 // 4)
    return {
        "server_side": server_side,
        "bytes_used": used,
        "bytes_limit": limit,
        "keys_limit": settings.SESSION_API_MAX_KEYS,
    }


def session_detail(*, request: HttpRequest) -> dict[str, Any]:
    """The session object of API.md, for the caller's session (never creating one)."""
    session = request.session
    fingerprint = session_fingerprint(session=session)
    client_data = client_items(session)
    user = request.user if request.user.is_authenticated else None
    # Bookkeeping keys alone (the expiry stamp, the signed-cookie id) are not "data".
    internal = set(session.keys()) - set(client_data) - {EXPIRES_KEY, SID_KEY, OWNER_KEY}
    return {
        "id": fingerprint,
        "engine": session_engine_name(session=session),
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
    from django.utils import timezone

    from sessions_api.models import UserSession

    current = request.session.key_hash()
    rows = UserSession.objects.filter(user=user, expires_at__gt=timezone.now())
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
        for row in rows.order_by("-last_seen_at", "-pk")
    ]


def user_session_get(*, user: Any, public_id: str) -> Any:
    """One of the user's sessions by its public id; 404 for anything else."""
    import re

    from sessions_api.models import UserSession

    if not re.fullmatch(r"[0-9a-f]{12}", public_id):
        raise NotFound("No such session.")
    row = UserSession.objects.filter(user=user, key_hash__startswith=public_id).first()
    if row is None:
        raise NotFound("No such session.")
    return row
