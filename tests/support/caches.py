"""Cache settings for tests that need a cache other than the run's Redis."""

from __future__ import annotations

# A Redis cache where nothing listens: the cache is a server, and it is down.
DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}
# Django's local-memory cache: this process's alone.
LOCMEM_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
