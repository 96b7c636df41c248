"""Django's Redis cache backend, reusing one redis-py client per connection pool.

Django's ``RedisCacheClient.get_client()`` builds a new ``redis.Redis`` object for every
cache call; with redis-py 6 that construction (its response-callback tables) costs
more than the network round trip itself. A client is thread-safe and holds no
connection of its own (it borrows one from the pool per command), so one per pool
serves every call.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: Any) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
