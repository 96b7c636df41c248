"""One Server-Sent Events stream: replay from ``Last-Event-ID``, then live, then the end.

A stream follows up to two channels: its owner's (what the owner's things do) and its
session's (the session ended or changed key: the stream's last event). Its event ids
are *cursors*: the position reached in each channel, each with a short tag of the
channel it belongs to, so a reconnect resumes each channel exactly where it stopped
(``XRANGE`` after the position, then the live events, skipping any the replay already
gave). A position in another owner's channel cannot be resumed: it answers ``reset``,
as does one older than what the channel still keeps.

The wire format is the ``text/event-stream`` of the HTML standard: ``retry:`` once at
the start, an ``id:``/``event:``/``data:`` block per event, a comment line every
``EVENTS_HEARTBEAT_SECONDS``. While it is open it is counted in the store, for
``EVENTS_MAX_STREAMS_PER_SESSION`` (``sessions_api.events.slots`` keeps the count).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio
from rest_framework.exceptions import Throttled

from sessions_api.conf import app_settings
from sessions_api.errors import ServiceUnavailable
from sessions_api.events.hub import DRAIN, FAILED, Subscription, hub, streams_draining
from sessions_api.events.slots import slot_keeper, slot_ttl
from sessions_api.events.store import (
    START,
    STORE_ERRORS,
    STREAM_ERRORS,
    STREAM_ID,
    StoredEvent,
    async_client,
    events_after,
    id_key,
    last_id,
    slot_release,
    slot_take,
    store_config,
)
from sessions_api.problems import problem_body

SESSION_EVENT = "session"
RESET_EVENT = "reset"
ERROR_EVENT = "error"
TAG_LENGTH = 8
# Marks the end of the replay's chunks: the session event was among them.
_END = b"end"
_CURSOR = re.compile(rf"([0-9a-f]{{{TAG_LENGTH}}})?:({STREAM_ID.pattern})")


def channel_tag(channel: str | None) -> str:
    """A short, non-secret tag of a channel, carried in the ids of its events."""
    if channel is None:
        return ""
    return hashlib.sha256(channel.encode("utf-8")).hexdigest()[:TAG_LENGTH]


@dataclass
class Position:
    """Where a stream is in one channel."""

    channel: str | None
    id: str = START

    def part(self) -> str:
        return f"{channel_tag(self.channel)}:{self.id}"


def cursor_parse(text: str | None) -> list[tuple[str, str]] | None:
    """The (tag, id) parts of a ``Last-Event-ID``; None when absent or malformed."""
    if not text:
        return None
    parts = []
    for piece in text.strip().split("."):
        match = _CURSOR.fullmatch(piece)
        if match is None:
            return None
        parts.append((match[1] or "", match[2]))
    return parts if len(parts) == 2 else None


def sse(*, event: str | None = None, data: str | None = None, id: str | None = None) -> bytes:
    """One event in the wire format (data is JSON text: one line, no newline in it)."""
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    if data is not None:
        lines.append(f"data: {data}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def error_data() -> str:
    """The ``error`` event's problem document: the event store went away."""
    return _json(
        problem_body(
            status_code=503,
            code="unavailable",
            title="A service this request needs is unavailable. Try again shortly.",
            detail="The event store is unavailable; reconnect with Last-Event-ID shortly.",
        )
    )


@dataclass
class StreamSpec:
    """What one stream follows, worked out by its view before the response starts."""

    #: The owner's channel, and the session's; either may be None.
    owner: str | None
    session: str | None
    #: The channel of the session the request's cookie named, when that one has ended
    #: and the request has a new session: replayed only, for the event that ended it.
    previous_session: str | None
    #: The client's ``Last-Event-ID`` header, if any.
    last_event_id: str | None
    #: Where this stream is counted as open, and its id there.
    slots_key: str
    stream_id: str
    #: Which events of the owner's channel this stream shows (``?task=``).
    accept: Callable[[StoredEvent], bool] = field(default=lambda event: True)
    #: When the session expires (Unix time), and how to ask whether it really has: the
    #: stream then ends with a ``session`` event ``expired``. Returns the new expiry
    #: time when the session lives on, None when it has ended.
    expires_at: float | None = None
    expiry_check: Callable[[], Awaitable[float | None]] | None = None
    #: The session event data for "expired": {"id": fingerprint, "reason": "expired"}.
    fingerprint: str | None = None
    #: Where the owner's channel stood when the request came (``stream_open`` reads
    #: it): without a cursor, the stream starts there, so nothing published while the
    #: response starts is missed.
    owner_start: str = START


class EventStream:
    """The body of one response: ``async for chunk in EventStream(spec, client)``."""

    def __init__(self, spec: StreamSpec, client: redis.asyncio.Redis) -> None:
        self.spec = spec
        self.client = client
        self.owner = Position(spec.owner)
        self.session = Position(spec.session)

    def cursor(self) -> str:
        return f"{self.owner.part()}.{self.session.part()}"

    def _position(self, channel: str) -> Position:
        return self.owner if channel == self.owner.channel else self.session

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._run()

    async def _run(self) -> AsyncIterator[bytes]:
        channels = [c for c in (self.spec.owner, self.spec.session) if c is not None]
        subscription = Subscription(channels)
        subscribed = False
        # Counted as open since stream_open(); the process keeps the place from now on.
        slot_keeper().hold(
            key=self.spec.slots_key, stream_id=self.spec.stream_id, subscription=subscription
        )
        try:
            yield f"retry: {int(app_settings.EVENTS_RETRY_MILLISECONDS)}\n\n".encode()
            try:
                if channels:
                    await hub().subscribe(subscription)
                    subscribed = True
                first = await self._replay()
            except STREAM_ERRORS:
                yield sse(event=ERROR_EVENT, data=error_data(), id=self.cursor())
                return
            for chunk in first:
                if chunk is _END:
                    return
                yield chunk
            async for chunk in self._live(subscription):
                yield chunk
        finally:
            slot_keeper().release(stream_id=self.spec.stream_id)
            if subscribed:
                with contextlib.suppress(Exception):
                    await hub().unsubscribe(subscription)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    slot_release(
                        self.client, key=self.spec.slots_key, stream_id=self.spec.stream_id
                    ),
                    2,
                )

    async def _replay(self) -> list[bytes]:
        """What the client missed (or a ``reset``), and where each channel stands now."""
        spec = self.spec
        parts = cursor_parse(spec.last_event_id)
        reset = spec.last_event_id is not None and parts is None
        owner_part, session_part = parts or (None, None)
        now_ms = int(time.time() * 1000)
        missed: list[StoredEvent] = []
        if (
            self.owner.channel is not None
            and owner_part
            and owner_part[0] == channel_tag(self.owner.channel)
        ):
            replay = await events_after(
                self.client, channel=self.owner.channel, after=owner_part[1], now_ms=now_ms
            )
            if replay.lost:
                reset = True
                self.owner.id = await last_id(self.client, channel=self.owner.channel)
            else:
                self.owner.id = owner_part[1]
                missed.extend(replay.events)
        else:
            # A cursor into a channel this caller does not have (another owner's) cannot
            # be resumed; no cursor at all starts from when the request came.
            reset = reset or bool(owner_part and owner_part[0])
            if self.owner.channel is not None:
                self.owner.id = spec.owner_start
                replay = await events_after(
                    self.client, channel=self.owner.channel, after=spec.owner_start, now_ms=0
                )
                missed.extend(replay.events)
        # The session's channel from the cursor's position, or else from its start:
        # whatever ended the session reaches a stream that opens too late for it, too.
        for channel in (spec.previous_session, spec.session):
            if channel is None:
                continue
            resume = session_part is not None and session_part[0] == channel_tag(channel)
            after = session_part[1] if resume and session_part else START
            replay = await events_after(self.client, channel=channel, after=after, now_ms=now_ms)
            ended = [event for event in replay.events if event.event == SESSION_EVENT]
            if channel == spec.previous_session:
                if ended:  # the session this cookie names ended: say so, and stop
                    self.session = Position(channel, ended[0].id)
                    return [sse(event=SESSION_EVENT, data=ended[0].data, id=self.cursor()), _END]
                continue
            self.session.id = after
            missed.extend(replay.events)
        chunks = []
        if reset:
            chunks.append(sse(event=RESET_EVENT, data="{}", id=self.cursor()))
        for event in sorted(missed, key=lambda item: id_key(item.id)):
            chunk = self._deliver(event)
            if chunk is not None:
                chunks.append(chunk)
                if event.event == SESSION_EVENT:
                    chunks.append(_END)
                    break
        return chunks

    def _deliver(self, event: StoredEvent) -> bytes | None:
        """The chunk for ``event``, or None when the stream has it already or skips it."""
        position = self._position(event.channel)
        if id_key(event.id) <= id_key(position.id):
            return None
        position.id = event.id
        if event.channel == self.owner.channel and not self.spec.accept(event):
            return None
        return sse(event=event.event, data=event.data, id=self.cursor())

    async def _live(self, subscription: Subscription) -> AsyncIterator[bytes]:
        heartbeat = float(app_settings.EVENTS_HEARTBEAT_SECONDS)
        next_beat = time.monotonic() + heartbeat
        while True:
            if streams_draining():
                return
            wait = max(0.0, next_beat - time.monotonic())
            try:
                item = await asyncio.wait_for(subscription.queue.get(), wait)
            except TimeoutError:
                item = None
            # The beat's work is due by the clock, not only on a timeout: a stream busy
            # with events must still see its session expire (that a wait of 0 times out
            # even with an item queued holds for asyncio.wait_for before Python 3.12,
            # not after). Its place is kept by the process (sessions_api.events.slots).
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + heartbeat
                try:
                    ended = await self._expired()
                except STREAM_ERRORS:
                    yield sse(event=ERROR_EVENT, data=error_data(), id=self.cursor())
                    return
                if ended is not None:
                    yield ended
                    return
                if item is None:
                    yield b": keep-alive\n\n"
            if item is None:
                continue
            if item is DRAIN:
                return
            if item is FAILED:
                yield sse(event=ERROR_EVENT, data=error_data(), id=self.cursor())
                return
            chunk = self._deliver(item)
            if chunk is not None:
                yield chunk
                if item.event == SESSION_EVENT:
                    return

    async def _expired(self) -> bytes | None:
        """The ``expired`` session event, once the session's expiry has really passed."""
        spec = self.spec
        if spec.expires_at is None or spec.expiry_check is None or time.time() < spec.expires_at:
            return None
        spec.expires_at = await spec.expiry_check()
        if spec.expires_at is not None:
            return None
        data = _json({"id": spec.fingerprint, "reason": "expired"})
        return sse(event=SESSION_EVENT, data=data, id=self.cursor())


async def stream_open(spec: StreamSpec) -> EventStream:
    """Admit one more stream for ``spec``'s session, or refuse it before it starts.

    ``503 unavailable`` when the event store is missing or down; ``429 throttled`` when
    the session has ``EVENTS_MAX_STREAMS_PER_SESSION`` streams open already (each open
    stream is counted in the store, and lapses unless its heartbeats refresh it, so a
    process that dies with streams open frees their places).
    """
    if store_config() is None:
        raise ServiceUnavailable("Live events are not configured on this service.")
    try:
        client = async_client()
        admitted = await slot_take(
            client,
            key=spec.slots_key,
            stream_id=spec.stream_id,
            ttl=slot_ttl(),
            limit=int(app_settings.EVENTS_MAX_STREAMS_PER_SESSION),
        )
        if admitted and spec.owner is not None:
            spec.owner_start = await last_id(client, channel=spec.owner)
    except STORE_ERRORS:
        raise ServiceUnavailable("The event store is unavailable. Try again shortly.") from None
    if not admitted:
        limit = app_settings.EVENTS_MAX_STREAMS_PER_SESSION
        raise Throttled(
            wait=slot_ttl(),
            detail=f"This session has {limit} event streams open already; close one first.",
        )
    return EventStream(spec, client)
