"""The private parts of Django the engines need, in one place, each pinned by a test.

Django's session stores and its Redis cache backend have no public way to do what the
engines do here: compare-and-set on the stored form, which means reading the row, the
file or the Redis value as stored rather than decoded. Each helper names the private
attribute it reaches for and why no public one serves; ``tests/sessions_api/
test_internals.py`` fails as soon as one of them moves in a Django upgrade.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.contrib.sessions.backends.file import SessionStore as FileStore
from django.core.cache import BaseCache
from django.core.cache.backends.redis import RedisCache


def redis_client(cache: BaseCache, *, key: str, write: bool = False) -> Any | None:
    """The redis-py client Django's Redis cache uses for ``key``; None for other caches.

    ``RedisCache`` keeps its client wrapper in ``_cache`` and offers no public accessor;
    the compare-and-set is a Lua script, which the cache API cannot run.
    """
    if not isinstance(cache, RedisCache):
        return None
    return cache._cache.get_client(key, write=write)  # type: ignore[attr-defined]


def redis_codec(cache: BaseCache) -> Any:
    """The serializer Django's Redis cache stores values with (``dumps``/``loads``).

    Private (``RedisCacheClient._serializer``); needed to compare and write the stored
    bytes themselves in the script, the same bytes ``cache.get()`` would decode.
    """
    return cache._cache._serializer  # type: ignore[attr-defined]


def session_row(store: DbStore) -> Any | None:
    """The unexpired row of a database store's session, or None (Django's own lookup).

    ``_get_session_from_db()`` is the one place Django filters by expiry and handles a
    malformed key; the compare-and-set needs the row's text, which ``load()`` decodes
    and drops.
    """
    return store._get_session_from_db()  # type: ignore[attr-defined]


def session_file(store: FileStore) -> str:
    """The path of a file store's session (``_key_to_file()``, which also checks the key)."""
    return store._key_to_file()  # type: ignore[attr-defined]
