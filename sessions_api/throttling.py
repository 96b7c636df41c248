"""Throttles for the auth endpoints: failed logins per address and per username.

DRF's ``SimpleRateThrottle`` counts every request it lets through. For logins only the
*failures* should count, or a user who logs in and out a few times would lock
themselves out: ``allow_request`` here only looks, and the view calls ``record()``
when a login fails. The history lives in the configured cache, shared by every worker.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from sessions_api.client import client_ip
from sessions_api.conf import app_settings


class _SettingRateMixin:
    """Read the rate from a Django setting at request time (so overrides apply)."""

    rate_setting = ""

    def get_rate(self) -> str | None:
        rate: str | None = getattr(app_settings, self.rate_setting)
        return rate


class FailureThrottle(_SettingRateMixin, SimpleRateThrottle):
    """Counts only what ``record()`` is told of: failures, not every request."""

    # Set by SimpleRateThrottle.__init__ from the rate (not declared by its stubs).
    duration: int
    num_requests: int

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    def record(self, request: Any, view: Any) -> None:
        """Count one failure against this throttle's key."""
        key = self.get_cache_key(request, view)
        if key is None or self.rate is None:
            return
        now = self.timer()
        history = [t for t in self.cache.get(key, []) if t > now - self.duration]
        history.insert(0, now)
        self.cache.set(key, history, self.duration)


class LoginAddressThrottle(FailureThrottle):
    """Failed logins from one client address."""

    scope = "login_ip"
    rate_setting = "LOGIN_THROTTLE_IP_RATE"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class LoginUsernameThrottle(FailureThrottle):
    """Failed logins for one username, from anywhere."""

    scope = "login_username"
    rate_setting = "LOGIN_THROTTLE_USERNAME_RATE"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username:
            return None
        # Hashed: usernames can be long or odd, and cache keys should be neither.
        ident = hashlib.sha256(username.casefold().encode("utf-8", "replace")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterThrottle(_SettingRateMixin, SimpleRateThrottle):
    """Accounts created from one client address."""

    scope = "register"
    rate_setting = "REGISTER_THROTTLE_RATE"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
