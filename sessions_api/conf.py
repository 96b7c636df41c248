"""The settings sessions_api reads, each with its default (a project sets what it changes).

Read through ``app_settings`` at the moment of use, so ``override_settings`` and
settings changed by a project after import apply, like Django's own settings do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Limits of the session resource, in UTF-8 bytes of compact JSON.
    "SESSION_API_MAX_VALUE_BYTES": 16384,
    "SESSION_API_MAX_SESSION_BYTES": 65536,
    "SESSION_API_MAX_KEYS": 256,
    "SESSION_API_MAX_EXPIRY_SECONDS": 31536000,
    # A login ends this many seconds after it began, whatever its expiry says.
    "SESSION_API_MAX_LOGIN_AGE": 2592000,
    # Paths whose errors Django's own handlers answer as problem+json.
    "SESSION_API_PROBLEM_PATHS": ("/api/",),
    # Accounts.
    "ALLOW_REGISTRATION": True,
    "TRUSTED_PROXY_COUNT": 0,
    # Failed logins (sessions_api/throttling.py): one address guessing one username,
    # one address whatever the username, and one username from every address together.
    "LOGIN_THROTTLE_IP_USERNAME_RATE": "5/min",
    "LOGIN_THROTTLE_IP_RATE": "20/min",
    "LOGIN_THROTTLE_USERNAME_RATE": "100/hour",
    "REGISTER_THROTTLE_RATE": "20/hour",
    # Live events (sessions_api.events): the Redis server they are kept on (None: the
    # default cache's, when that is Redis), how long and how many are kept for replay,
    # and the stream's limits and rhythm.
    "EVENTS_REDIS_URL": None,
    "EVENTS_KEY_PREFIX": None,
    "EVENTS_RETENTION_SECONDS": 3600,
    "EVENTS_MAX_PER_OWNER": 1000,
    "EVENTS_MAX_STREAMS_PER_SESSION": 5,
    "EVENTS_HEARTBEAT_SECONDS": 15,
    "EVENTS_RETRY_MILLISECONDS": 3000,
}


class AppSettings:
    """``app_settings.NAME``: the project's ``settings.NAME``, or the default above."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        self._defaults = defaults

    def __getattr__(self, name: str) -> Any:
        if name not in self._defaults:
            raise AttributeError(name)
        return getattr(settings, name, self._defaults[name])


app_settings = AppSettings(DEFAULTS)
