"""``SESSION_ENGINE=cached_db``: write-through cache over the database store.

Writes lock the database row and merge onto what the database holds (the cache may
lag a concurrent writer by a moment; the database never does).

The cache holds the signature of the row's text beside the data (64 characters, see
``engines.db.signature_of``), so a save can try the database compare-and-set (see
``DatabaseLockMixin``) after a read from the cache too. On Redis the entry is read as
its bytes, which are then also the base of a merge, decoded only if one runs; the
data itself is in the entry once, as in Django's own cached_db store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends import cached_db, db
from django.core.cache import BaseCache

from sessions_api.engines.db import DatabaseLockMixin, signature_of
from sessions_api.engines.django_internals import redis_client, redis_codec, session_row

# Django's cached_db store logs a failed cache write here; so does ours.
logger = logging.getLogger("django.contrib.sessions")
_TAG = "sa2"  # marks our (tag, signature of the row's text, data) cache entries
_OLD_TAG = "sa1"  # (tag, the row's text, data): read still, never written


class RawCachedStore(cached_db.SessionStore):
    """Django's write-through store, caching the signature of the row beside the data."""

    _loaded_raw: Any = None
    _loaded_signature: str | None = None
    _written_raw: str | None = None

    if TYPE_CHECKING:  # set by Django's stores, not declared by django-stubs
        _cache: BaseCache
        _session: dict[str, Any]

    def load(self) -> dict[str, Any]:
        self._loaded_raw = self._loaded_signature = None
        entry_bytes, cached = self._cached_entry()
        if isinstance(cached, tuple) and len(cached) == 3 and cached[0] in (_TAG, _OLD_TAG):
            self._loaded_raw = entry_bytes  # None off Redis: the base is then a copy
            self._loaded_signature = signature_of(cached[1])
            return cached[2]
        if isinstance(cached, dict):  # written by Django's own cached_db store
            return cached
        row = session_row(self)
        if not row:
            return {}
        data = self.decode(row.session_data)
        self._loaded_raw = row.session_data
        self._cache.set(
            self.cache_key,
            (_TAG, signature_of(row.session_data), data),
            self.get_expiry_age(expiry=row.expire_date),
        )
        return data

    def _cached_entry(self) -> tuple[bytes | None, Any]:
        """The cache entry as stored (its bytes, on Redis) and as decoded."""
        try:
            key = self._cache.make_and_validate_key(self.cache_key)
            client = redis_client(self._cache, key=key)
            if client is None:
                return None, self._cache.get(self.cache_key)
            raw = client.get(key)
            return raw, None if raw is None else redis_codec(self._cache).loads(raw)
        except Exception:  # as Django: an unusable cache key is no cached session
            return None, None

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        obj = super().create_model_instance(data)
        self._written_raw = obj.session_data
        return obj

    def save(self, must_create: bool = False) -> None:
        db.SessionStore.save(self, must_create)  # not cached_db's, which caches a bare dict
        self._cache_put()

    def _cache_put(self) -> None:
        try:
            signature = signature_of(self._written_raw or "")
            self._cache.set(self.cache_key, (_TAG, signature, self._session), self.get_expiry_age())
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)


class SessionStore(DatabaseLockMixin, RawCachedStore):
    engine_name = "cached_db"

    def stored_data(self, raw: Any) -> dict[str, Any]:
        """``raw`` is the cache entry's bytes (read from Redis) or the row's text."""
        if isinstance(raw, bytes):
            data: dict[str, Any] = redis_codec(self._cache).loads(raw)[2]
            return data
        return super().stored_data(raw)

    def _after_fast_save(self, data: dict[str, Any]) -> None:
        self._cache_put()
