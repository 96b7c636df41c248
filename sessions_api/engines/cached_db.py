"""``SESSION_ENGINE=cached_db``: write-through cache over the database store.

Writes lock the database row and merge onto what the database holds (the cache may
lag a concurrent writer by a moment; the database never does).

The cache holds the row's text beside the data when it is short, and only its
signature (64 characters, see ``engines.db.signature_of``) when it is not, so a save
can try the database compare-and-set (see ``DatabaseLockMixin``) after a read from the
cache too: on the text (the cheaper condition to build), or on the signature (which
keeps a large session in the entry once, as in Django's own cached_db store). On
Redis the entry is read as its bytes, which are then also the base of a merge, decoded
only if one runs.
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
_TEXT_TAG = "sa1"  # marks our (tag, the row's text, data) cache entries
_SIGNATURE_TAG = "sa2"  # (tag, the signature of the row's text, data)
# Up to this many characters, the entry keeps the row's text itself.
SHORT_TEXT_CHARS = 1024


def _entry(text: str, data: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The cache entry for a row of ``text`` holding ``data``."""
    if len(text) <= SHORT_TEXT_CHARS:
        return (_TEXT_TAG, text, data)
    return (_SIGNATURE_TAG, signature_of(text), data)


class RawCachedStore(cached_db.SessionStore):
    """Django's write-through store, caching the row's text (or signature) beside the data."""

    _loaded_raw: Any = None
    _loaded_text: str | None = None
    _loaded_signature: str | None = None
    _written_raw: str | None = None

    if TYPE_CHECKING:  # set by Django's stores, not declared by django-stubs
        _cache: BaseCache
        _session: dict[str, Any]

    def load(self) -> dict[str, Any]:
        self._loaded_raw = self._loaded_text = self._loaded_signature = None
        entry_bytes, cached = self._cached_entry()
        if isinstance(cached, tuple) and len(cached) == 3:
            if cached[0] == _TEXT_TAG:
                self._loaded_text = cached[1]
            elif cached[0] == _SIGNATURE_TAG:
                self._loaded_signature = cached[1]
            if self._loaded_text or self._loaded_signature:
                self._loaded_raw = entry_bytes  # None off Redis: the base is then a copy
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
            _entry(row.session_data, data),
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
            entry = _entry(self._written_raw or "", self._session)
            self._cache.set(self.cache_key, entry, self.get_expiry_age())
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
