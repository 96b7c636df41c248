"""``SESSION_ENGINE=cache``: sessions only in the cache (Redis in production)."""

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.sessions.backends import cache
from django.core.cache.backends.base import InvalidCacheKey

from sessions_api.engines.base import SessionApiStoreMixin

LOCK_TTL_SECONDS = 10
LOCK_WAIT_SECONDS = 10


class _StrictCacheStore(cache.SessionStore):
    """Django's cache store, minus its habit of hiding cache outages.

    Django's ``load()`` treats *any* cache error as "no session", so a Redis outage
    silently shows every caller an empty session (and the next write replaces theirs).
    Only a malformed key means that; a connection error propagates and is answered 503.
    """

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except InvalidCacheKey:
            data = None
        if data is not None:
            return data
        self._session_key = None
        return {}


class SessionStore(SessionApiStoreMixin, _StrictCacheStore):
    engine_name = "cache"

    @contextmanager
    def _locked_stored(self) -> Iterator[dict[str, Any] | None]:
        # An atomic lock in the cache itself (Redis SET NX with an expiry), so it holds
        # across processes and hosts. It expires on its own if a holder dies.
        lock_key = f"{self.cache_key}:lock"
        token = secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        pause = 0.002
        while not self._cache.add(lock_key, token, timeout=LOCK_TTL_SECONDS):
            if time.monotonic() > deadline:
                raise TimeoutError("Timed out waiting for the session's write lock.")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        try:
            yield self._cache.get(self.cache_key)
        finally:
            if self._cache.get(lock_key) == token:
                self._cache.delete(lock_key)
