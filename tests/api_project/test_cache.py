"""The project's Redis cache backend: one redis-py client per pool, on Django's internals.

``api_project/cache.py`` overrides ``RedisCacheClient.get_client()`` using Django's
private ``_get_connection_pool_index``, ``_get_connection_pool`` and ``_client``: this
fails as soon as a Django upgrade moves one of them.
"""

from __future__ import annotations

import uuid

from api_project.cache import RedisCache
from tests.settings import REDIS_AVAILABLE
from tests.support.clients import need


def test_one_client_per_pool_serves_every_call():
    need(REDIS_AVAILABLE, "Redis at 127.0.0.1:6379")
    cache = RedisCache("redis://127.0.0.1:6379/15", {"KEY_PREFIX": f"t-{uuid.uuid4().hex}"})
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client  # reused, not rebuilt per call
    writer = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is writer
    cache.set("k", {"v": 1}, timeout=5)
    assert cache.get("k") == {"v": 1}
    cache.delete("k")
