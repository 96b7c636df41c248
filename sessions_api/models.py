"""The registry of logged-in sessions: one row per login, per device."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserSession(models.Model):
    """A logged-in session of a user, known by a fingerprint, never by its key.

    ``key_hash`` is the SHA-256 of the session key (of the signed cookie's own id for
    ``signed_cookies``); its first 12 characters are the ``id`` clients see.
    ``sealed_key`` is the session key encrypted with a key derived from
    ``SECRET_KEY``, kept only so that revoking a session of another device can delete
    it from a server-side store; it is empty for ``signed_cookies``.

    A row exists exactly while the login is valid: logout and revocation delete it,
    and a request whose logged-in session has no row is treated as anonymous. That is
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

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = "user session"

    def __str__(self) -> str:
        return f"{self.user} on {self.public_id} ({self.engine})"

    @property
    def public_id(self) -> str:
        from sessions_api.engines.base import FINGERPRINT_LENGTH

        return self.key_hash[:FINGERPRINT_LENGTH]
