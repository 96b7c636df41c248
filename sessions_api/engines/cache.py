"""``SESSION_ENGINE=cache``: sessions only in the cache (Redis in production).

A save is one compare-and-set script on Redis when nobody wrote the session since this
request read it; otherwise the locked merge of ``ApiSessionStore`` runs. On another
cache backend (locmem in development) every save takes the locked merge.

What the script compares is a version: a short random token under the session's key
plus ``:v`` (``VERSION_SUFFIX``), which every write of this store renews in the same
atomic step as the data (the compare-and-set script, the locked merge's write script;
a new session's key is nobody else's yet). A request reads it with the data (one
``MGET``, atomic too), so the script ships the new data and two tokens, never the old
data beside the new, and Redis compares 16 bytes instead of the whole session. The
data itself stays what Django's cache store writes, but only this store may write it
while requests run: a writer that does not renew the version (Django's own cache
store on the same keys) could have its write overwritten. A session with no version
(written before the token existed, or the token evicted) has its next save take the
locked merge, which gives it one.

The version also carries the size the API noted for the data it goes with
(``<token>:<bytes>``, see ``ApiSessionStore.known_size()``), so the next write measures
only the key it changes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends import cache
from django.contrib.sessions.backends.base import UpdateError
from django.core.cache import BaseCache
from django.core.cache.backends.base import InvalidCacheKey

from sessions_api.engines.base import ApiSessionStore
from sessions_api.engines.django_internals import redis_client, redis_codec

LOCK_TTL_SECONDS = 10
LOCK_WAIT_SECONDS = 10
VERSION_SUFFIX = ":v"

# Compare-and-set in one round trip: write the data (KEYS[1]) and its new version
# (KEYS[3]) only if the version is still the one we read and no locked merge is under
# way (KEYS[2], the lock of locked_stored).
_CAS = """
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('GET', KEYS[3]) == ARGV[1] then
  if tonumber(ARGV[4]) > 0 then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[4])
    redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
  else
    redis.call('SET', KEYS[1], ARGV[2])
    redis.call('SET', KEYS[3], ARGV[3])
  end
  return 1
end
return 0
"""
# The locked merge's write: the data and a new version together, only while the
# session still exists (Django's save() raises UpdateError for one that is gone).
_WRITE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
"""


def _new_version(size: int | None) -> bytes:
    """A new version token, with the size noted for the data it is written with."""
    token = secrets.token_hex(8)
    return (token if size is None else f"{token}:{size}").encode()


def _size_of(version: bytes) -> int | None:
    _, _, size = version.partition(b":")
    return int(size) if size.isdigit() else None


class StrictCacheStore(cache.SessionStore):
    """Django's cache store, minus its habit of hiding cache outages.

    Django's ``load()`` treats *any* cache error as "no session", so a Redis outage
    silently shows every caller an empty session (and the next write replaces theirs).
    Only a malformed key means that; a connection error propagates and is answered 503.
    """

    _loaded_raw: Any = None
    #: The version read with the data (bytes), None if there was none (or no Redis).
    _loaded_version: bytes | None = None
    _size: int | None = None

    if TYPE_CHECKING:  # set by Django's cache store, not declared by django-stubs
        _cache: BaseCache

    def load(self) -> dict[str, Any]:
        self._loaded_raw = self._loaded_version = None
        try:
            key = self._cache.make_and_validate_key(self.cache_key)
            client = redis_client(self._cache, key=key)
            if client is not None:
                # The raw bytes (the base of a merge) and the version (what a save
                # compares on, see save_if_unchanged), in the same round trip.
                raw, version = client.mget([key, f"{key}{VERSION_SUFFIX}"])
                data = None if raw is None else redis_codec(self._cache).loads(raw)
                self._loaded_raw = raw
                self._loaded_version = version if raw is not None else None
                if self._loaded_version is not None:
                    self._size = _size_of(self._loaded_version)
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
        version = self._loaded_version
        if version is None:
            return False
        key = self._cache.make_and_validate_key(self.cache_key)
        client = redis_client(self._cache, key=key, write=True)
        if client is None:
            return False
        timeout = self._cache.get_backend_timeout(self.get_expiry_age())
        if timeout == 0:
            return False  # Django's set() deletes on a zero timeout: leave it to the slow path
        new = redis_codec(self._cache).dumps(self.stamped(data))
        lock_key = self._cache.make_and_validate_key(f"{self.cache_key}:lock")
        renewed = _new_version(self._size_to_write)
        # ARGV[4] 0 means no expiry (timeout None): a real zero never gets here.
        keys = (key, lock_key, f"{key}{VERSION_SUFFIX}")
        if not client.eval(_CAS, 3, *keys, version, new, renewed, timeout or 0):
            return False
        self._loaded_raw, self._loaded_version = new, renewed
        return True

    def _write(self, *, must_create: bool) -> None:
        if self.session_key is None:
            super()._write(must_create=must_create)  # Django's save() creates it, via here
            return
        key = self._cache.make_and_validate_key(self.cache_key)
        client = redis_client(self._cache, key=key, write=True)
        timeout = self._cache.get_backend_timeout(self.get_expiry_age())
        if client is None:
            super()._write(must_create=must_create)  # no compare-and-set: no version
            return
        version_key = f"{key}{VERSION_SUFFIX}"
        if must_create or timeout == 0:
            # A new key (nobody else's yet), or Django's set() deleting the data.
            super()._write(must_create=must_create)
            if timeout == 0:
                client.delete(version_key)
                self._loaded_version = None
            else:
                self._loaded_version = _new_version(self._size_to_write)
                client.set(version_key, self._loaded_version, ex=timeout)
            return
        # An existing session: the data and its new version in one step, so no reader
        # ever sees the new data under the old version or the old data under the new.
        new = redis_codec(self._cache).dumps(self._get_session())
        renewed = _new_version(self._size_to_write)
        if not client.eval(_WRITE, 2, key, version_key, new, renewed, timeout or 0):
            raise UpdateError
        self._loaded_raw, self._loaded_version = new, renewed

    def delete(self, session_key: str | None = None) -> None:
        name = session_key or self.session_key
        super().delete(session_key)
        if name is None:
            return
        key = self._cache.make_and_validate_key(self.cache_key_prefix + name)
        client = redis_client(self._cache, key=key, write=True)
        if client is not None:
            client.delete(f"{key}{VERSION_SUFFIX}")

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
