"""The event store: Redis Streams for replay, Redis pub/sub for delivery, across processes.

Every process that changes something (a web process, a Celery worker) appends an event
to the stream of its *channel* and publishes it in the same Lua script, so the two never
disagree: ``XADD`` gives the event its id (the stream id, ``<ms>-<seq>``), trims the
stream to about ``EVENTS_MAX_PER_OWNER`` entries and to ``EVENTS_RETENTION_SECONDS``
(``MAXLEN ~`` and ``MINID ~``, by Redis's own clock), and ``PUBLISH`` hands the event to
every web process with a stream open on that channel. A reconnecting client's missed
events are read back with ``XRANGE`` (exclusive of the id it last saw); whether some
were trimmed in between is what the stream's count of entries ever added and its
oldest kept entry say (Redis 7).

Channels are stream keys: one per owner (a user, or an anonymous session's owner token)
for what the owner's things do, and one per session (by the SHA-256 of its identity,
never the key itself) for what happens to that session. Pub/sub names are global to a
Redis server, whatever its database, so each carries the database number too.

The store is the Redis server of ``EVENTS_REDIS_URL``, or else that of the default cache
when it is Redis (its ``KEY_PREFIX`` then prefixes every key here); without either,
events are off: publishing does nothing and streams answer ``503 unavailable``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
import redis.asyncio
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.utils.module_loading import import_string

from sessions_api.conf import app_settings

logger = logging.getLogger(__name__)

# What a stream id looks like (and so a position in a channel).
STREAM_ID = re.compile(r"(\d{1,20})-(\d{1,20})")
START = "0-0"

# Seconds to connect and to wait for an answer: a store that is down costs a publisher
# (a request, a task) this much at most, and a stream answers 503 within it.
CONNECT_TIMEOUT = 1.0
COMMAND_TIMEOUT = 2.0

# KEYS[1] the channel's stream. ARGV: max entries, retention (s), event type, data,
# the pub/sub name. Redis's clock trims by age, so web and worker hosts need not agree.
_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3], 'd', ARGV[4])
local now = redis.call('TIME')
local minid = (tonumber(now[1]) - tonumber(ARGV[2])) * 1000
if minid > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', minid))
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) + 60)
redis.call('PUBLISH', ARGV[5], id .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
return id
"""

# KEYS[1] the session's set of open streams (member: stream id, score: when it lapses).
# ARGV: the stream's id, seconds until it lapses unless refreshed, the limit. Returns 1
# when the stream may open (and counts it), 0 when the limit is reached. Lapsed entries
# (a process that died with streams open) are dropped first, so they free their slots.
_SLOT_TAKE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""

# KEYS: the sets of open streams; ARGV[1] the seconds until they lapse unless refreshed,
# then one stream id per key (a key may come more than once). Only entries still there
# are refreshed (XX): a stream released meanwhile stays released.
_SLOTS_REFRESH = """
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ttl, ARGV[i + 1])
  redis.call('EXPIRE', key, ttl)
end
return #KEYS
"""


class EventStoreUnavailable(Exception):
    """The event store is not configured, or does not answer."""


# What a store that is down raises (redis-py's errors, and the socket's own), and with
# our own error, what a reader of the store handles as "the store is gone".
STORE_ERRORS = (redis.RedisError, OSError)
STREAM_ERRORS = (EventStoreUnavailable, redis.RedisError, OSError)


@dataclass(frozen=True)
class StoreConfig:
    """Where events are kept: a Redis URL and the prefix of every key there."""

    url: str
    prefix: str


def store_config() -> StoreConfig | None:
    """``EVENTS_REDIS_URL``, else the default cache's Redis; None when there is neither."""
    url = app_settings.EVENTS_REDIS_URL
    prefix = app_settings.EVENTS_KEY_PREFIX
    if url:
        return StoreConfig(url=str(url), prefix=str(prefix or "events"))
    cache = settings.CACHES.get("default", {})
    try:
        backend = import_string(cache.get("BACKEND", ""))
    except ImportError:
        return None
    if not (isinstance(backend, type) and issubclass(backend, RedisCache)):
        return None
    location = cache.get("LOCATION") or ""
    servers = location if isinstance(location, (list, tuple)) else re.split("[;,]", location)
    if not servers or not servers[0]:
        return None
    # Under the cache's own prefix: what namespaces the cache namespaces the events too.
    cache_prefix = cache.get("KEY_PREFIX") or ""
    default = f"{cache_prefix}:events" if cache_prefix else "events"
    return StoreConfig(url=str(servers[0]), prefix=str(prefix or default))


def _required_config() -> StoreConfig:
    config = store_config()
    if config is None:
        raise EventStoreUnavailable(
            "No event store: set EVENTS_REDIS_URL, or use Redis as the default cache."
        )
    return config


# --- Channels ------------------------------------------------------------------------


def _prefix() -> str:
    config = store_config()
    return config.prefix if config is not None else "events"


def owner_channel(*, user_id: Any = None, token: str | None = None) -> str | None:
    """The channel of an owner: a user (by id), else an anonymous owner token; or None."""
    if user_id is not None:
        return f"{_prefix()}:owner:user:{user_id}"
    if token:
        return f"{_prefix()}:owner:anon:{token}"
    return None


def session_channel(*, key_hash: str) -> str:
    """The channel of one session, by the SHA-256 of its identity (``key_hash()``)."""
    return f"{_prefix()}:session:{key_hash}"


def slots_key(*, holder: str) -> str:
    """Where the open streams of one session (or one anonymous address) are counted."""
    return f"{_prefix()}:streams:{holder}"


def pubsub_name(*, channel: str, db: int) -> str:
    """The pub/sub name of a channel: names are global to the server, keys per database."""
    return f"{db}/{channel}"


def database_of(client: redis.Redis | redis.asyncio.Redis) -> int:
    return int(client.connection_pool.connection_kwargs.get("db") or 0)


# --- Clients -------------------------------------------------------------------------

# The command clients' options, synchronous and asynchronous alike (the hub's pub/sub
# client has its own: no health check, see sessions_api.events.hub).
CLIENT_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_connect_timeout": CONNECT_TIMEOUT,
    "socket_timeout": COMMAND_TIMEOUT,
    "health_check_interval": 30,
}

_sync_clients: dict[tuple[int, str], redis.Redis] = {}


def sync_client() -> redis.Redis:
    """This process's client of the store (redis-py's pool re-opens itself after a fork)."""
    config = _required_config()
    key = (os.getpid(), config.url)
    client = _sync_clients.get(key)
    if client is None:
        client = _sync_clients[key] = redis.Redis.from_url(config.url, **CLIENT_OPTIONS)
    return client


T = TypeVar("T")


def of_running_loop(
    registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T], make: Callable[[], T]
) -> T:
    """The running event loop's entry of ``registry``, made by ``make()`` on first use
    (asyncio objects belong to one loop; the entry goes with its loop)."""
    loop = asyncio.get_running_loop()
    entry = registry.get(loop)
    if entry is None:
        entry = registry[loop] = make()
    return entry


_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, redis.asyncio.Redis]
] = weakref.WeakKeyDictionary()


def async_client() -> redis.asyncio.Redis:
    """The running event loop's client (an asyncio client belongs to one loop); its
    streams share its pool, so idle streams hold no connection of their own."""
    url = _required_config().url
    clients = of_running_loop(_async_clients, dict)
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.asyncio.Redis.from_url(url, **CLIENT_OPTIONS)
    return client


# --- Writing -------------------------------------------------------------------------


def event_publish(*, channel: str, event: str, data: str) -> str:
    """Append ``event`` (its type) with ``data`` (JSON text) to ``channel``; return its id.

    Raises ``EventStoreUnavailable`` when the store does not answer: callers whose own
    work must not fail with it use ``event_publish_quietly``.
    """
    client = sync_client()
    try:
        result = client.eval(
            _PUBLISH,
            1,
            channel,
            str(app_settings.EVENTS_MAX_PER_OWNER),
            str(app_settings.EVENTS_RETENTION_SECONDS),
            event,
            data,
            pubsub_name(channel=channel, db=database_of(client)),
        )
    except STORE_ERRORS as error:
        raise EventStoreUnavailable(f"{type(error).__name__}: {error}") from None
    return str(result)


def event_publish_quietly(*, channel: str | None, event: str, data: str) -> str | None:
    """``event_publish``, logging instead of raising: an event lost to a store that is
    down must not undo what it reports (a task's progress, a logout). Its streams end
    with an ``error`` event, so their clients re-read state when they reconnect."""
    if channel is None or store_config() is None:
        return None  # no event store: events are off
    try:
        return event_publish(channel=channel, event=event, data=data)
    except EventStoreUnavailable as error:
        logger.warning("Event %s not published: %s", event, error)
        return None


# --- Reading (for the streams, asynchronously) ----------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    """One event of a channel: its id (the stream id), type and data (JSON text)."""

    channel: str
    id: str
    event: str
    data: str


def id_key(stream_id: str) -> tuple[int, int]:
    """A stream id as numbers, for ordering (``<ms>-<seq>``)."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class Replay:
    """What a channel holds after a position: the events, and whether some were lost."""

    events: list[StoredEvent]
    lost: bool


async def events_after(
    client: redis.asyncio.Redis, *, channel: str, after: str, now_ms: int
) -> Replay:
    """The events of ``channel`` after ``after`` (exclusive), oldest first.

    ``lost`` when some that came after it are no longer kept: the stream trimmed some
    and ``after`` is older than its oldest kept entry, or the whole stream lapsed and
    ``after`` is older than the retention time.
    """
    retention_ms = app_settings.EVENTS_RETENTION_SECONDS * 1000
    async with client.pipeline(transaction=False) as pipe:
        pipe.xinfo_stream(channel)
        pipe.xrange(channel, min=f"({after}", max="+")
        info, entries = await pipe.execute(raise_on_error=False)
    for result in (info, entries):
        if isinstance(result, redis.ConnectionError | redis.TimeoutError):
            raise result
    if isinstance(info, redis.ResponseError):  # no such stream (never written, or lapsed)
        return Replay(events=[], lost=after != START and id_key(after)[0] < now_ms - retention_ms)
    if isinstance(entries, Exception):
        raise entries
    # Trimming removes the oldest entries: some after ``after`` went when any went at
    # all and ``after`` comes before the oldest kept. (When ``after`` was itself the
    # last one trimmed, that says "lost" with nothing lost: a needless reset, no gap.)
    first = info.get("first-entry")
    first_id = str(first[0]) if first else START
    trimmed = int(info.get("entries-added") or 0) > int(info.get("length") or 0)
    lost = after != START and trimmed and id_key(after) < id_key(first_id)
    return Replay(
        events=[
            StoredEvent(channel=channel, id=entry_id, event=fields["e"], data=fields["d"])
            for entry_id, fields in entries
        ],
        lost=lost,
    )


async def last_id(client: redis.asyncio.Redis, *, channel: str) -> str:
    """The id of the newest event of ``channel``, or ``0-0`` when it has none."""
    entries = await client.xrevrange(channel, max="+", min="-", count=1)
    return str(entries[0][0]) if entries else START


async def _script(client: redis.asyncio.Redis, script: str, key: str, *args: str) -> Any:
    # redis-py types eval() for its sync and async clients at once.
    pending: Any = client.eval(script, 1, key, *args)
    return await pending


async def slot_take(
    client: redis.asyncio.Redis, *, key: str, stream_id: str, ttl: int, limit: int
) -> bool:
    """Count one more open stream under ``key``; False when ``limit`` are open already."""
    return bool(await _script(client, _SLOT_TAKE, key, stream_id, str(ttl), str(limit)))


async def slots_refresh(
    client: redis.asyncio.Redis, *, slots: list[tuple[str, str]], ttl: int
) -> None:
    """Keep open streams, ``(key, stream id)`` each, counted for ``ttl`` seconds more."""
    keys = [key for key, _ in slots]
    pending: Any = client.eval(_SLOTS_REFRESH, len(keys), *keys, str(ttl), *(s for _, s in slots))
    await pending


async def slot_release(client: redis.asyncio.Redis, *, key: str, stream_id: str) -> None:
    await client.zrem(key, stream_id)
