"""``SESSION_ENGINE=cache``: sessions only in the cache (Redis in production)."""

from typing import Any

from django.contrib.sessions.backends import cache
from django.core.cache.backends.base import InvalidCacheKey

from sessions_api.engines.base import SessionApiStoreMixin


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
