"""The project's Redis cache backend: one redis-py client per pool, on Django's internals.

``api_project/cache.py`` overrides ``RedisCacheClient.get_client()`` using Django's
private ``_get_connection_pool_index``, ``_get_connection_pool`` and ``_client``: this
fails as soon as a Django upgrade moves one of them.
"""

from __future__ import annotations

from api_project.cache import RedisCache
from tests.namespace import redis_location, service_key_prefix


def test_one_client_per_pool_serves_every_call(redis_server):
    # The run's Redis database, in a namespace of the run's (deleted when it ends).
    cache = RedisCache(redis_location(), {"KEY_PREFIX": service_key_prefix()})
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client  # reused, not rebuilt per call
    writer = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is writer
    cache.set("k", {"v": 1}, timeout=5)
    assert cache.get("k") == {"v": 1}
    cache.delete("k")
