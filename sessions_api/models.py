"""The registry of logged-in sessions: one row per login, per device.

The registry's behaviour lives here, on the model and its manager, as django-allauth's
``usersessions`` keeps it: ``UserSession.objects.create_from_request()`` on login,
``.for_session()`` / ``.rekey()`` / ``.forget()`` as a session's key moves on or ends,
``.revoke()`` on a queryset to log sessions out on every engine, and ``row.touch()``
for last-seen. Beside it, ``RetiredOwnerToken``: the anonymous owner tokens whose
sessions logged in, which own nothing from then on.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from sessions_api.client import client_ip, client_user_agent
from sessions_api.conf import app_settings
from sessions_api.engines import ENGINE_MODULES, ApiSessionStore, api_session
from sessions_api.engines.base import FINGERPRINT_LENGTH, key_hash_of
from sessions_api.events.sessions import SessionReason, session_event_publish
from sessions_api.sealing import seal, unseal

logger = logging.getLogger(__name__)

# Last-seen is written at most this often per session: no write on every request.
LAST_SEEN_EVERY = timedelta(seconds=60)


def _sealed_key(session: ApiSessionStore) -> str:
    # Only a server-side store has something to delete on revocation.
    return seal(session.session_key) if session.server_side and session.session_key else ""


class UserSessionQuerySet(models.QuerySet["UserSession"]):
    def revoke(self, *, reason: SessionReason = "revoked") -> int:
        """Log these sessions out at once, on every engine; return how many there were."""
        rows = list(self)
        for row in rows:
            row.end(reason=reason)
        return len(rows)


class UserSessionManager(models.Manager["UserSession"]):
    def get_queryset(self) -> UserSessionQuerySet:
        return UserSessionQuerySet(self.model, using=self._db)

    def create_from_request(self, *, request: HttpRequest, user: Any) -> UserSession | None:
        """Register the session ``request`` has just logged ``user`` into.

        The session must already be known by its identity (a server-side session
        needs its key: the login flow saves it first).
        """
        session = api_session(request)
        key_hash = session.key_hash()
        if not key_hash:
            return None
        now = timezone.now()
        row, _ = self.update_or_create(
            key_hash=key_hash,
            defaults={
                # A login again on a logged-in session is a new login: its age restarts.
                "created_at": now,
                "user": user,
                "sealed_key": _sealed_key(session),
                "engine": session.engine_name,
                "last_seen_at": now,
                "expires_at": session.get_expiry_date(),
                "ip": client_ip(request),
                "user_agent": client_user_agent(request),
            },
        )
        return row

    def for_session(self, *, session: ApiSessionStore, user_id: Any) -> UserSession | None:
        """The live row of this logged-in session, or None when it has none (read only).

        One indexed lookup; what the middleware asks on every logged-in request.
        """
        key_hash = session.key_hash()
        if not key_hash:
            return None
        return (
            self.filter(key_hash=key_hash, user_id=user_id)
            .only("pk", "created_at", "last_seen_at")
            .first()
        )

    def rekey(self, *, old_hash: str, session: ApiSessionStore) -> int:
        """A logged-in session changed its key (``cycle_key``): follow it."""
        return self.filter(key_hash=old_hash).update(
            key_hash=session.key_hash(), sealed_key=_sealed_key(session)
        )

    def forget(self, *, session: ApiSessionStore) -> None:
        """The session is logging out: drop its row (the caller flushes the session)."""
        key_hash = session.key_hash()
        if key_hash:
            self.filter(key_hash=key_hash).delete()

    def revoke_all(
        self, *, user: Any, except_hash: str | None = None, reason: SessionReason = "revoked"
    ) -> int:
        """Revoke every session of ``user`` except the one whose hash is ``except_hash``."""
        rows = self.get_queryset().filter(user=user)
        if except_hash:
            rows = rows.exclude(key_hash=except_hash)
        return rows.revoke(reason=reason)

    def expired(self) -> UserSessionQuerySet:
        return self.get_queryset().filter(expires_at__lte=timezone.now())

    def live_for(self, *, user: Any) -> UserSessionQuerySet:
        """The user's unexpired sessions, most recently seen first."""
        return (
            self.get_queryset()
            .filter(user=user, expires_at__gt=timezone.now())
            .order_by("-last_seen_at", "-pk")
        )


class UserSession(models.Model):
    """A logged-in session of a user, known by a fingerprint, never by its key.

    ``key_hash`` is the SHA-256 of the session key (of the signed cookie's own id for
    ``signed_cookies``); its first 12 characters are the ``id`` clients see.
    ``sealed_key`` is the session key encrypted with a key derived from
    ``SECRET_KEY``, kept only so that revoking a session of another device can delete
    it from a server-side store; it is empty for ``signed_cookies``.

    A row exists exactly while the login is valid: logout and revocation delete it,
    and a request whose logged-in session has no row, or a row older than
    ``SESSION_API_MAX_LOGIN_AGE``, is treated as anonymous. That is
    what makes revocation hold for signed cookies, whose data the server cannot delete.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_sessions"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    sealed_key = models.TextField(blank=True, default="")
    engine = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")

    objects = UserSessionManager()

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = "user session"

    def __str__(self) -> str:
        return f"{self.user} on {self.public_id} ({self.engine})"

    @property
    def public_id(self) -> str:
        return self.key_hash[:FINGERPRINT_LENGTH]

    def is_current(self, *, session: ApiSessionStore) -> bool:
        return self.key_hash == session.key_hash()

    def is_past_max_age(self) -> bool:
        """True once this login is ``SESSION_API_MAX_LOGIN_AGE`` seconds old.

        Read at the moment of asking, so a lower setting ends older logins at once.
        """
        age = timedelta(seconds=app_settings.SESSION_API_MAX_LOGIN_AGE)
        return timezone.now() >= self.created_at + age

    def touch(self, *, request: HttpRequest, session: ApiSessionStore) -> None:
        """Refresh last-seen, address and expiry: a write at most once a minute."""
        now = timezone.now()
        if now - self.last_seen_at < LAST_SEEN_EVERY:
            return
        type(self).objects.filter(pk=self.pk).update(
            last_seen_at=now,
            expires_at=session.get_expiry_date(),
            ip=client_ip(request),
            user_agent=client_user_agent(request),
        )

    def end(self, *, reason: SessionReason = "revoked") -> None:
        """Log this session out: the row goes (which alone ends the login on every
        engine) and, for a server-side engine, the session itself from its store; its
        open streams hear ``reason``."""
        key = unseal(self.sealed_key)
        if key:
            try:
                module = ENGINE_MODULES.get(self.engine, str(settings.SESSION_ENGINE))
                import_module(module).SessionStore(session_key=key).delete()
            except Exception:
                # The row's deletion below is what ends the login; a store that is
                # briefly unreachable only delays reclaiming the space.
                logger.warning("Could not delete revoked session %s from its store", self.public_id)
        self.delete()
        session_event_publish(key_hash=self.key_hash, reason=reason)


class RetiredOwnerTokenManager(models.Manager["RetiredOwnerToken"]):
    def retire(self, *, token: str) -> None:
        """``token`` owns nothing from now on (idempotent)."""
        self.get_or_create(token_hash=key_hash_of(token))

    def is_retired(self, *, token: str) -> bool:
        return self.filter(token_hash=key_hash_of(token)).exists()

    def lapsed(self) -> models.QuerySet[RetiredOwnerToken]:
        """Retired longer ago than any copy of a cookie left untouched can live."""
        age = timedelta(seconds=app_settings.SESSION_API_MAX_EXPIRY_SECONDS)
        return self.filter(retired_at__lt=timezone.now() - age)


class RetiredOwnerToken(models.Model):
    """An anonymous owner token whose session logged in (known by its SHA-256).

    On login what the token owned passes to the user and the token leaves the
    session; a copy of the pre-login cookie still carries it (a planted cookie, or any
    old ``signed_cookies`` cookie, which still decodes), so it is recorded here and
    never owns anything again: such a copy gets a new token, and no later login takes
    over what it makes.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    retired_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = RetiredOwnerTokenManager()

    class Meta:
        verbose_name = "retired owner token"

    def __str__(self) -> str:
        return f"owner token {self.token_hash[:FINGERPRINT_LENGTH]} (retired {self.retired_at})"
