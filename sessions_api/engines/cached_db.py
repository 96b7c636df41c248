"""``SESSION_ENGINE=cached_db``: write-through cache over the database store.

Writes lock the database row and merge onto what the database holds (the cache may
lag a concurrent writer by a moment; the database never does).

The cache holds the row's encoded form beside the data, so a save can try the
database compare-and-set (see ``DatabaseLockMixin``) after a read from the cache too.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends import cached_db, db
from django.core.cache import BaseCache

from sessions_api.engines.db import DatabaseLockMixin
from sessions_api.engines.django_internals import session_row

# Django's cached_db store logs a failed cache write here; so does ours.
logger = logging.getLogger("django.contrib.sessions")
_TAG = "sa1"  # marks our (tag, encoded row, data) cache entries


class RawCachedStore(cached_db.SessionStore):
    """Django's write-through store, caching the row's text beside the data."""

    _loaded_raw: Any = None
    _written_raw: str | None = None

    if TYPE_CHECKING:  # set by Django's stores, not declared by django-stubs
        _cache: BaseCache
        _session: dict[str, Any]

    def load(self) -> dict[str, Any]:
        self._loaded_raw = None
        try:
            cached = self._cache.get(self.cache_key)
        except Exception:  # as Django: an unusable cache key is no cached session
            cached = None
        if isinstance(cached, tuple) and len(cached) == 3 and cached[0] == _TAG:
            self._loaded_raw = cached[1]
            return cached[2]
        if isinstance(cached, dict):  # written by Django's own cached_db store
            return cached
        row = session_row(self)
        if not row:
            return {}
        data = self.decode(row.session_data)
        self._cache.set(
            self.cache_key,
            (_TAG, row.session_data, data),
            self.get_expiry_age(expiry=row.expire_date),
        )
        return data

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        obj = super().create_model_instance(data)
        self._written_raw = obj.session_data
        return obj

    def save(self, must_create: bool = False) -> None:
        db.SessionStore.save(self, must_create)  # not cached_db's, which caches a bare dict
        self._cache_put()

    def _cache_put(self) -> None:
        try:
            self._cache.set(
                self.cache_key, (_TAG, self._written_raw, self._session), self.get_expiry_age()
            )
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)


class SessionStore(DatabaseLockMixin, RawCachedStore):
    engine_name = "cached_db"

    def _after_fast_save(self, data: dict[str, Any]) -> None:
        self._cache_put()
