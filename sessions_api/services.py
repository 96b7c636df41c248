"""Every change to the caller's session goes through here.

Views validate input and call these functions; nothing else writes to
``request.session``. That keeps the key-name rules, the size limits (checked before
anything is stored, so a refused write leaves the session exactly as it was) and the
browser-cookie guard of the signed-cookie engine in one place.
"""

from __future__ import annotations

import math
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from django.contrib import auth
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError

from sessions_api.conf import app_settings
from sessions_api.engines import ApiSessionStore, api_session
from sessions_api.engines.base import ENDS_KEY
from sessions_api.errors import (
    InvalidCredentials,
    KeyExists,
    SessionTooLarge,
    TooManyKeys,
    ValueTooLarge,
)
from sessions_api.events.sessions import session_end_reason
from sessions_api.models import RetiredOwnerToken, UserSession
from sessions_api.policy import (
    OWNER_KEY,
    SIGNED_COOKIE_HEADROOM_BYTES,
    client_items,
    is_client_key,
    json_size,
    key_validate,
    object_size_after,
)
from sessions_api.selectors import session_ends_at, session_owner_token, user_session_get
from sessions_api.throttling import login_attempt_reserve


def session_key_set(
    *, session: ApiSessionStore, key: str, value: Any, create_only: bool = False
) -> bool:
    """Store ``value`` under ``key``; return True if the key was created.

    Refuses, in this order: a bad name, a value over ``SESSION_API_MAX_VALUE_BYTES``,
    an existing key when ``create_only``, a session over
    ``SESSION_API_MAX_SESSION_BYTES`` (or, for signed cookies, over the browser's cookie
    limit), and more than ``SESSION_API_MAX_KEYS`` keys.
    """
    key_validate(key=key)
    size = json_size(value)
    limit = app_settings.SESSION_API_MAX_VALUE_BYTES
    if size > limit:
        raise ValueTooLarge(f"The value is {size} bytes as compact JSON; the limit is {limit}.")
    created = key not in session
    if create_only and not created:
        raise KeyExists(f"The key {key!r} already exists; use PUT to replace it.")
    keys = sum(1 for name in session.keys() if is_client_key(name))  # noqa: SIM118 (no __iter__)
    before = session.known_size()
    if before is None:  # measure the session once; the store keeps the result from here
        candidate = client_items(session)
        candidate[key] = value
        after = json_size(candidate)
    else:  # only the member that changes is measured (the old value, if any)
        old = None if created else json_size(session[key])
        after = object_size_after(size=before, keys=keys, key=key, old_bytes=old, new_bytes=size)
    client = (after, keys + created)
    _check_session_limits(session=session, client=client, changes={key: value})
    session[key] = value
    session.note_size(after)
    return created


def session_key_delete(*, session: ApiSessionStore, key: str) -> None:
    """Remove ``key``; ``404 not_found`` when it is absent."""
    key_validate(key=key)
    if key not in session:
        raise NotFound(f"The session has no key {key!r}.")
    del session[key]


def session_keys_clear(*, session: ApiSessionStore) -> int:
    """Remove every client key, keeping login and expiry; return how many went."""
    keys = [key for key in session.keys() if is_client_key(key)]  # noqa: SIM118 (no __iter__)
    for key in keys:
        del session[key]
    return len(keys)


def session_expiry_set(
    *,
    session: ApiSessionStore,
    seconds: int | None = None,
    expires_at: datetime | None = None,
    at_browser_close: bool = False,
) -> None:
    """Map the three forms of the expiry PUT onto ``set_expiry()``.

    Exactly one form is given (the serializer sees to it): ``seconds`` of inactivity,
    an absolute ``expires_at``, or ``at_browser_close`` (``set_expiry(0)``). On a
    logged-in session neither of the first two may end later than the login does
    (``SESSION_API_MAX_LOGIN_AGE``): ``400 invalid`` on that field. Browser close is
    allowed; its server-side lifetime is capped at the login's end like every expiry.
    """
    value: int | datetime
    if at_browser_close:
        value = 0
    elif seconds is not None:
        value = seconds
    elif expires_at is not None:
        value = expires_at.astimezone(UTC)
    else:  # pragma: no cover - the serializer guarantees one form
        raise ValueError("session_expiry_set() needs one expiry form.")
    ends = session_ends_at(session=session)
    if ends is not None and not at_browser_close:
        _check_login_end(ends=ends, seconds=seconds, expires_at=expires_at)
    stored = value.isoformat() if isinstance(value, datetime) else value
    _check_session_limits(session=session, client=None, changes={"_session_expiry": stored})
    session.set_expiry(value)


def _check_login_end(*, ends: datetime, seconds: int | None, expires_at: datetime | None) -> None:
    """Refuse an expiry that would outlast the login (``SESSION_API_MAX_LOGIN_AGE``)."""
    left = max(0, math.floor((ends - timezone.now()).total_seconds()))
    why = (
        f"this login ends at {ends.isoformat()}, SESSION_API_MAX_LOGIN_AGE seconds after "
        "it began, and no expiry may outlast it"
    )
    if seconds is not None and seconds > left:
        message = f"Ensure this value is at most {left}: {why}."
        raise ValidationError({"seconds": [ErrorDetail(message, code="max_login_age")]})
    if expires_at is not None and expires_at > ends:
        message = f"The expiry must be at most {ends.isoformat()}: {why}."
        raise ValidationError({"expires_at": [ErrorDetail(message, code="max_login_age")]})


def session_expiry_reset(*, session: ApiSessionStore) -> None:
    """``set_expiry(None)``: back to ``SESSION_COOKIE_AGE`` and the browser-close setting."""
    session.set_expiry(None)


def session_cycle(*, session: ApiSessionStore) -> None:
    """``cycle_key()``: a new session key, the same data (the registry follows the key)."""
    session.cycle_key()


def session_identity_ensure(*, session: ApiSessionStore) -> None:
    """Give a server-side session its key now (not at response time): a login needs it."""
    if session.server_side and not session.session_key:
        session.save()


def session_flush(*, request: HttpRequest) -> None:
    """Delete the data, forget the key and log the user out.

    ``auth.logout()`` is ``flush()`` plus the ``user_logged_out`` signal and an
    anonymous ``request.user``, so listeners (the session registry) hear of it; the
    session's open streams hear ``flushed``.
    """
    with session_end_reason("flushed"):
        auth.logout(request)


def session_owner_token_ensure(*, session: ApiSessionStore) -> str:
    """The caller's anonymous owner token, created (and the session with it) if needed.

    A random id kept in the session under ``OWNER_KEY``: it survives ``cycle_key()``
    (which keeps the data) and ends with ``flush()``/logout, so things an anonymous
    caller owns (their tasks) can be found again, and handed over on login, where
    ``session_owner_token_retire()`` ends it. A session that still carries a retired
    token (a copy of a pre-login cookie) gets a new one.
    """
    token = session_owner_token(session=session)
    if token is None:
        token = secrets.token_hex(16)
        session[OWNER_KEY] = token
    return token


def session_owner_token_retire(*, session: ApiSessionStore) -> None:
    """On login, once what the token owned has passed to the user: the token leaves the
    session and is retired, so that no copy of the pre-login cookie owns anything again."""
    token = session.get(OWNER_KEY)
    if isinstance(token, str):
        RetiredOwnerToken.objects.retire(token=token)
    session.pop(OWNER_KEY, None)


def _check_session_limits(
    *, session: ApiSessionStore, client: tuple[int, int] | None, changes: dict[str, Any]
) -> None:
    """Raise the first limit the session would break after ``changes``.

    ``client`` is the client data's size (bytes of compact JSON) and key count after the
    change, when the change is to a client key.
    """
    if client is not None:
        size, keys = client
        limit = app_settings.SESSION_API_MAX_SESSION_BYTES
        if size > limit:
            raise SessionTooLarge(
                f"The session would be {size} bytes as compact JSON; the limit is {limit}."
            )
    cookie_limit = session.cookie_limit_bytes
    if cookie_limit is not None:
        data = dict(session.items())
        data.update(changes)
        budget = cookie_limit - (SIGNED_COOKIE_HEADROOM_BYTES if client else 0)
        # The exact size signs and compresses the whole session; a bound from its JSON
        # length settles most writes without that.
        fits = session.cookie_bytes_upper_bound(data) <= budget
        if not fits and (cookie := session.projected_cookie_bytes(data)) > budget:
            raise SessionTooLarge(
                f"The signed session cookie would be {cookie} bytes; a browser keeps at "
                f"most {cookie_limit}, and {SIGNED_COOKIE_HEADROOM_BYTES} are kept "
                "free for login and expiry data."
            )
    if client is not None:
        limit = app_settings.SESSION_API_MAX_KEYS
        if keys > limit:
            raise TooManyKeys(f"The session would hold {keys} keys; the limit is {limit}.")


__all__ = [
    "session_cycle",
    "session_expiry_reset",
    "session_expiry_set",
    "session_flush",
    "session_identity_ensure",
    "session_key_delete",
    "session_key_set",
    "session_keys_clear",
    "session_owner_token_ensure",
    "session_owner_token_retire",
    "sessions_clear_expired",
    "user_login",
    "user_login_record",
    "user_logout",
    "user_password_change",
    "user_register",
    "user_session_revoke",
    "user_sessions_revoke_others",
]


# --- Accounts ------------------------------------------------------------------------
# Django's auth does the work (authenticate, login, logout, password validators,
# update_session_auth_hash); these functions put it in the order the contract needs.


def user_register(*, request: HttpRequest, username: str, password: str, email: str = "") -> Any:
    """Create an account and log it in, like a login (the session's data is kept)."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.create_user(username=username, email=email, password=password)
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def user_login(*, request: HttpRequest, username: str, password: str) -> Any:
    """Check the credentials and log in; ``invalid_credentials`` when they are wrong.

    A failed login counts against the login throttles (``429 throttled`` once one is
    full), reserved before the password is hashed so parallel guesses cannot pass it.

    ``auth.login`` keeps the anonymous session's data but under a new key (no session
    fixation), rotates the CSRF token, and fires ``user_logged_in``: the registry
    records this device and the task app adopts the session's tasks.
    """
    with login_attempt_reserve(request=request, username=username) as attempt:
        user = auth.authenticate(request, username=username, password=password)
        if user is None:
            attempt.failed()
            raise InvalidCredentials()
    auth.login(request, user)
    return user


def user_logout(*, request: HttpRequest) -> None:
    """Log out (if logged in) and flush the session; the registry forgets it."""
    auth.logout(request)


def user_login_record(*, request: HttpRequest, user: Any) -> UserSession | None:
    """Register the session ``request`` has just logged ``user`` into (on login), and
    give the login its end, ``SESSION_API_MAX_LOGIN_AGE`` seconds from now."""
    session = api_session(request)
    # The login's hard end: every expiry of the session is capped at it from now on
    # (see engines.base), and the registry row ends the login then on every request.
    session[ENDS_KEY] = math.floor(time.time()) + app_settings.SESSION_API_MAX_LOGIN_AGE
    session_identity_ensure(session=session)
    return UserSession.objects.create_from_request(request=request, user=user)


def user_password_change(
    *, request: HttpRequest, user: Any, old_password: str, new_password: str
) -> int:
    """Check the current password, set a new one; keep this session (new key), end
    every other one. Returns how many other sessions were logged out.

    A wrong ``old_password`` is ``400 invalid`` and counts as a failed login of the user
    from this address, so whoever holds a logged-in session cannot guess the password
    faster than a login could (``429 throttled``).
    """
    with login_attempt_reserve(request=request, username=user.get_username()) as attempt:
        if not user.check_password(old_password):
            attempt.failed()
            raise ValidationError(
                {"old_password": ["The current password is not correct."]}, code="wrong"
            )
    user.set_password(new_password)
    user.save(update_fields=["password"])
    auth.update_session_auth_hash(request, user)  # cycles the key; the registry follows
    rotate_token(request)
    current = api_session(request).key_hash()
    return UserSession.objects.revoke_all(user=user, except_hash=current, reason="password_changed")


def user_session_revoke(*, request: HttpRequest, user: Any, public_id: str) -> None:
    """Log out one of the user's sessions by its public id; 404 if it is not theirs."""
    row = user_session_get(user=user, public_id=public_id)
    if row.is_current(session=api_session(request)):
        auth.logout(request)
        return
    row.end()


def user_sessions_revoke_others(*, request: HttpRequest, user: Any) -> int:
    """Log out every session of the user but this one; return how many."""
    current = api_session(request).key_hash()
    return UserSession.objects.revoke_all(user=user, except_hash=current)


# --- Housekeeping --------------------------------------------------------------------


def sessions_clear_expired() -> int:
    """Delete expired sessions from the store and their rows from the registry.

    The store part is Django's ``clearsessions`` (a no-op for ``cache``, whose entries
    expire on their own, and for ``signed_cookies``); the registry rows of logins past
    their expiry go with them, and retired owner tokens older than any untouched cookie
    can live. Returns how many registry rows were removed.
    """
    call_command("clearsessions", verbosity=0)
    deleted, _ = UserSession.objects.expired().delete()
    RetiredOwnerToken.objects.lapsed().delete()
    return deleted
