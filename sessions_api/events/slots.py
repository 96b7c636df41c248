"""The open streams of one web process, kept counted in the store together.

Each open stream holds a place in its session's set of open streams (``slot_take``),
which lapses unless refreshed, so a process that dies with streams open frees their
places on its own. Refreshing is the process's work, not each stream's: once every
``EVENTS_HEARTBEAT_SECONDS`` one script refreshes every place the process holds, in
batches, instead of one round trip per stream and heartbeat (two thousand idle streams
cost about as much in refreshes as a handful). When the store does not take a refresh,
the streams it was for end with an ``error`` event (``FAILED``), as they would if their
own command had failed: their places are no longer kept.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from sessions_api.conf import app_settings
from sessions_api.events.hub import FAILED, Subscription
from sessions_api.events.store import (
    STORE_ERRORS,
    async_client,
    of_running_loop,
    slots_refresh,
)

logger = logging.getLogger(__name__)

# Places refreshed per script call: one call stays short for Redis (which runs scripts
# one at a time) whatever the number of streams.
BATCH = 500


def slot_ttl() -> int:
    """Seconds an open stream stays counted without a refresh: three refreshes missed."""
    return 3 * int(app_settings.EVENTS_HEARTBEAT_SECONDS) + 5


class SlotKeeper:
    """The places of one event loop's open streams, and the task that refreshes them."""

    def __init__(self) -> None:
        # stream id -> (its session's set of open streams, the stream's inbox)
        self.places: dict[str, tuple[str, Subscription]] = {}
        self.task: asyncio.Task[None] | None = None

    def hold(self, *, key: str, stream_id: str, subscription: Subscription) -> None:
        """Keep the place ``stream_id`` took under ``key`` until ``release()``."""
        self.places[stream_id] = (key, subscription)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._keep())

    def release(self, *, stream_id: str) -> None:
        self.places.pop(stream_id, None)

    async def _keep(self) -> None:
        heartbeat = float(app_settings.EVENTS_HEARTBEAT_SECONDS)
        while self.places:
            await asyncio.sleep(heartbeat)
            await self.refresh()

    async def refresh(self) -> None:
        """Refresh every place held now; end the streams of a batch the store refused."""
        held = list(self.places.items())
        ttl = slot_ttl()
        for start in range(0, len(held), BATCH):
            batch = held[start : start + BATCH]
            try:
                await slots_refresh(
                    async_client(),
                    slots=[(key, stream_id) for stream_id, (key, _) in batch],
                    ttl=ttl,
                )
            except STORE_ERRORS as error:
                logger.warning(
                    "Live events could not keep %d streams counted: %s",
                    len(batch),
                    type(error).__name__,
                )
                for stream_id, (_, subscription) in batch:
                    self.places.pop(stream_id, None)
                    subscription.deliver(FAILED)


_keepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SlotKeeper] = (
    weakref.WeakKeyDictionary()
)


def slot_keeper() -> SlotKeeper:
    """The keeper of the running event loop (an asyncio client belongs to one loop)."""
    return of_running_loop(_keepers, SlotKeeper)
