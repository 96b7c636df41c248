"""Live delivery inside one web process: one pub/sub connection, fanned out to its streams.

A stream subscribes its channels here rather than holding a Redis connection of its own,
so a process with thousands of open streams holds one connection for all of them. The
hub subscribes a channel once, when its first stream arrives, and waits for Redis to
confirm it (after that, nothing published on it can be missed: the stream replays what
came before from the channel's stream); it unsubscribes when the last stream leaves.

When the connection fails, every stream of the hub is told (``FAILED``) and ends with an
``error`` event: redis-py would reconnect and resubscribe on its own, but what was
published in between would be gone unnoticed, so the hub never reconnects; the next
stream makes a new hub, and its client replays from its ``Last-Event-ID``.
``streams_drain()`` ends every stream of the process (``DRAIN``): a graceful shutdown
calls it so that streams end cleanly instead of being cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from sessions_api.events.store import (
    COMMAND_TIMEOUT,
    STORE_ERRORS,
    EventStoreUnavailable,
    StoredEvent,
    database_of,
    of_running_loop,
    pubsub_name,
    store_config,
)

logger = logging.getLogger(__name__)

# What a subscription's queue may hold besides events.
FAILED: Any = object()
DRAIN: Any = object()
# A stream that falls this far behind is ended (FAILED) rather than let grow.
QUEUE_LIMIT = 10000


class Subscription:
    """One stream's view of the hub: the channels it follows, and its inbox."""

    def __init__(self, channels: list[str]) -> None:
        self.channels = channels
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def deliver(self, item: Any) -> None:
        if self.queue.qsize() >= QUEUE_LIMIT and item is not FAILED:
            item = FAILED
        self.queue.put_nowait(item)


class Hub:
    """The pub/sub connection of one event loop and the subscriptions it serves."""

    def __init__(self) -> None:
        config = store_config()
        if config is None:
            raise EventStoreUnavailable("No event store is configured.")
        # No retries: a silent reconnect would lose what was published meanwhile. No
        # health check either: redis-py runs it before a command, reading the PING's
        # answer from the connection the reader is already reading (asyncio refuses a
        # second reader, RuntimeError), and the reader sees a closed connection at once;
        # TCP keep-alive finds one that went silent.
        self.client = redis.asyncio.Redis.from_url(
            config.url,
            decode_responses=True,
            socket_connect_timeout=COMMAND_TIMEOUT,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self.db = database_of(self.client)
        self.pubsub = self.client.pubsub()
        self.listeners: dict[str, set[Subscription]] = {}
        self.confirmed: dict[str, asyncio.Future[None]] = {}
        self.reader: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.failed = False

    def _name(self, channel: str) -> str:
        return pubsub_name(channel=channel, db=self.db)

    async def subscribe(self, subscription: Subscription) -> None:
        """Follow ``subscription``'s channels; return once Redis has confirmed each."""
        loop = asyncio.get_running_loop()
        names = [self._name(channel) for channel in subscription.channels]
        new = [name for name in names if name not in self.listeners]
        for name in names:
            self.listeners.setdefault(name, set()).add(subscription)
        waits = []
        for name in names:
            if name in new:
                self.confirmed[name] = loop.create_future()
            waits.append(self.confirmed[name])
        try:
            if new:
                # One at a time: the pub/sub's first command opens its connection, and
                # two opening at once would each take a connection from the pool (the
                # confirmation of one never read). The reader starts once a command has
                # connected it: a stream whose channels another stream is subscribing
                # only waits for that confirmation.
                async with self.lock:
                    await self.pubsub.subscribe(*new)
                    if self.reader is None:
                        self.reader = asyncio.create_task(self._read())
            await asyncio.wait_for(asyncio.gather(*waits), COMMAND_TIMEOUT)
        except (TimeoutError, *STORE_ERRORS) as error:
            self._fail(error)
            raise EventStoreUnavailable(f"{type(error).__name__}: {error}") from None

    async def unsubscribe(self, subscription: Subscription) -> None:
        gone = []
        for channel in subscription.channels:
            name = self._name(channel)
            listeners = self.listeners.get(name)
            if listeners is None:
                continue
            listeners.discard(subscription)
            if not listeners:
                del self.listeners[name]
                self.confirmed.pop(name, None)
                gone.append(name)
        if gone and not self.failed:
            try:
                await self.pubsub.unsubscribe(*gone)
            except STORE_ERRORS as error:
                self._fail(error)

    async def _read(self) -> None:
        try:
            while True:
                message = await self.pubsub.get_message(timeout=None)
                if message is None:
                    continue
                kind, name = message["type"], message["channel"]
                if kind == "subscribe":
                    future = self.confirmed.get(name)
                    if future is not None and not future.done():
                        future.set_result(None)
                elif kind == "message":
                    self._dispatch(name, message["data"])
        except asyncio.CancelledError:
            raise
        except Exception as error:  # whatever ended the connection ends its streams
            self._fail(error)

    def _dispatch(self, name: str, payload: str) -> None:
        event_id, _, rest = payload.partition("\n")
        event, _, data = rest.partition("\n")
        item = StoredEvent(channel=name.split("/", 1)[1], id=event_id, event=event, data=data)
        for subscription in list(self.listeners.get(name, ())):
            subscription.deliver(item)

    def _fail(self, error: BaseException) -> None:
        if self.failed:
            return
        self.failed = True
        logger.warning("Live events lost their Redis connection: %s", type(error).__name__)
        _hubs.pop(asyncio.get_running_loop(), None)
        for listeners in self.listeners.values():
            for subscription in listeners:
                subscription.deliver(FAILED)
        for future in self.confirmed.values():
            if not future.done():
                future.set_exception(EventStoreUnavailable(str(error)))
                future.exception()  # retrieved: no "never retrieved" warning
        self.listeners.clear()
        self.confirmed.clear()
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()
        asyncio.get_running_loop().create_task(self._close())

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()
            await self.client.aclose()

    def drain(self) -> None:
        for listeners in self.listeners.values():
            for subscription in listeners:
                subscription.deliver(DRAIN)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()
_draining = False


def hub() -> Hub:
    """The hub of the running event loop (made on first use, and again after a failure)."""
    return of_running_loop(_hubs, Hub)


def streams_draining() -> bool:
    """True once ``streams_drain()`` ran: this process is shutting down."""
    return _draining


def streams_drain() -> None:
    """End every open stream of this process cleanly (a graceful shutdown calls it).

    Call it from the event loop's thread. Each stream sends nothing more and closes; its
    client reconnects (to another process) with its ``Last-Event-ID`` and misses nothing.
    """
    global _draining
    _draining = True
    for current in list(_hubs.values()):
        current.drain()
