"""``SESSION_ENGINE=cache``: sessions only in the cache (Redis in production).

A save is one compare-and-set script on Redis when nobody wrote the session since this
request read it; otherwise the locked merge of ``ApiSessionStore`` runs. On another
cache backend (locmem in development) every save takes the locked merge.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends import cache
from django.core.cache import BaseCache
from django.core.cache.backends.base import InvalidCacheKey

from sessions_api.engines.base import ApiSessionStore
from sessions_api.engines.django_internals import redis_client, redis_codec

LOCK_TTL_SECONDS = 10
LOCK_WAIT_SECONDS = 10

# Compare-and-set in one round trip: write only if the key still holds what we read
# and no locked merge is under way (KEYS[2], the lock of _locked_stored).
_CAS = """
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('GET', KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[3]) > 0 then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  else
    redis.call('SET', KEYS[1], ARGV[2])
  end
  return 1
end
return 0
"""


class StrictCacheStore(cache.SessionStore):
    """Django's cache store, minus its habit of hiding cache outages.

    Django's ``load()`` treats *any* cache error as "no session", so a Redis outage
    silently shows every caller an empty session (and the next write replaces theirs).
    Only a malformed key means that; a connection error propagates and is answered 503.
    """

    _loaded_raw: Any = None

    if TYPE_CHECKING:  # set by Django's cache store, not declared by django-stubs
        _cache: BaseCache

    def load(self) -> dict[str, Any]:
        self._loaded_raw = None
        try:
            key = self._cache.make_and_validate_key(self.cache_key)
            client = redis_client(self._cache, key=key)
            if client is not None:
                # The raw bytes too: a save compares on them (see save_if_unchanged).
                raw = client.get(key)
                data = None if raw is None else redis_codec(self._cache).loads(raw)
                self._loaded_raw = raw
            else:
                data = self._cache.get(self.cache_key)
        except InvalidCacheKey:
            data = None
        if data is not None:
            return data
        self._session_key = None
        return {}


class SessionStore(ApiSessionStore, StrictCacheStore):
    engine_name = "cache"

    def stored_data(self, raw: Any) -> dict[str, Any]:
        data: dict[str, Any] = redis_codec(self._cache).loads(raw)  # the Redis bytes read
        return data

    def written_form(self) -> Any:
        return None  # Django's save() writes through the cache API: the bytes are not ours

    def save_if_unchanged(self, data: dict[str, Any]) -> bool:
        raw = self._loaded_raw
        if raw is None:
            return False
        key = self._cache.make_and_validate_key(self.cache_key)
        client = redis_client(self._cache, key=key, write=True)
        if client is None:
            return False
        self._stamp_expiry(data)
        timeout = self._cache.get_backend_timeout(self.get_expiry_age())
        if timeout == 0:
            return False  # Django's set() deletes on a zero timeout: leave it to the slow path
        new = redis_codec(self._cache).dumps(data)
        lock_key = self._cache.make_and_validate_key(f"{self.cache_key}:lock")
        # ARGV[3] 0 means no expiry (timeout None): a real zero never gets here.
        if not client.eval(_CAS, 2, key, lock_key, raw, new, timeout or 0):
            return False
        self._loaded_raw = new
        return True

    @contextmanager
    def locked_stored(self) -> Iterator[dict[str, Any] | None]:
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
