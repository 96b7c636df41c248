"""Throttles for the auth endpoints: failed logins, and accounts created per address.

Failed logins are counted in three buckets, each a sliding window over the configured
cache (shared by every worker and instance):

- one client address guessing one username (``LOGIN_THROTTLE_IP_USERNAME_RATE``, strict);
- one client address, whatever the username (``LOGIN_THROTTLE_IP_RATE``);
- one username, from every address together (``LOGIN_THROTTLE_USERNAME_RATE``, looser).

A flood of wrong guesses from other addresses fills their own pair and address
buckets, not the pair bucket of the user's own address: the user is locked out there
only once the looser username-wide bucket is full.

The count is *reserved* before the password is checked (``login_attempt_reserve``),
in every bucket at once or in none (``buckets_reserve``): on Redis one script that
reads, checks and counts, which Redis runs alone; on another cache ``cache.add`` and
``cache.incr``, which Memcached does atomically too. Either way N parallel guesses get
N different counts, so at most the limit of them reach the password hash. A right
password gives its reservation back, so only failures count. DRF's throttles (and
django-axes) read the history and write it later, after the password check; parallel
guesses all pass that read.

Accounts created per address (``RegisterThrottle``) and the enqueue rates of
``tasks_api`` count in buckets of the same kind, through ``BucketThrottle``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.http import HttpRequest
from redis.exceptions import NoScriptError
from rest_framework.throttling import BaseThrottle

from sessions_api.client import client_ip
from sessions_api.conf import app_settings
from sessions_api.engines.django_internals import redis_client
from sessions_api.errors import LoginThrottled

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A window's count outlives the next window by this much, so that servers whose clocks
# disagree by up to that still read the previous window's count.
_CLOCK_SKEW_SECONDS = 60
# Addresses of one IPv6 network this size count as one: a single host usually has a
# whole /64, and could otherwise give every guess an address of its own.
_IPV6_PREFIX = 64


@dataclass(frozen=True)
class Rate:
    """``limit`` events per ``seconds``, parsed from a DRF-style rate such as ``5/min``."""

    limit: int
    seconds: int

    @classmethod
    def parse(cls, rate: str | None) -> Rate | None:
        """The rate, or None (no limit) for ``None``."""
        if rate is None:
            return None
        number, _, period = rate.partition("/")
        return cls(limit=int(number), seconds=_PERIODS[period.strip()[0]])


@dataclass(frozen=True)
class Reservation:
    """What a reservation did: counted the event (``granted``) under ``keys``, one per
    bucket, or found a bucket full and counted nothing, with room again in ``wait``
    seconds."""

    granted: bool
    keys: tuple[str, ...] = ()
    wait: float = 0.0


@dataclass(frozen=True)
class Bucket:
    """One sliding-window counter: what it counts (``scope``), for whom (``ident``)."""

    scope: str
    ident: str
    rate: Rate

    def key(self, window: int) -> str:
        return f"sessions_api:throttle:{self.scope}:{self.ident}:{window}"

    @property
    def ttl(self) -> int:
        """How long a window's count is kept: through the next window, and then some."""
        return 2 * self.rate.seconds + _CLOCK_SKEW_SECONDS

    def previous_key(self, now: float) -> str:
        """The key of the window before the one ``now`` falls in."""
        return self.key(int(now // self.rate.seconds) - 1)

    def reserve(self, now: float, *, previous: int) -> Reservation:
        """Count one event at ``now`` if the bucket has room for it; ``previous`` is
        the count stored under ``previous_key(now)``, which the caller reads (for
        several buckets in one round trip).

        The count is kept per fixed window; the sliding window is the current one plus
        the previous one weighted by how much of it still lies within the last
        ``seconds`` (so a burst at a window boundary cannot get twice the limit). The
        event is counted first and taken back when it does not fit, so that parallel
        callers each see a count of their own.
        """
        seconds = self.rate.seconds
        window, into = divmod(now, seconds)
        key = self.key(int(window))
        count = _incr(key, timeout=self.ttl)
        previous = max(0, previous)
        if previous * (1 - into / seconds) + count <= self.rate.limit:
            return Reservation(granted=True, keys=(key,))
        release(key)
        return Reservation(granted=False, wait=self.wait(now, previous=previous, current=count - 1))

    def wait(self, now: float, *, previous: int, current: int) -> float:
        """Seconds until one more event fits, with ``previous`` events counted in the
        window before ``now``'s and ``current`` in ``now``'s."""
        into = now % self.rate.seconds
        return _seconds_until_room(
            limit=self.rate.limit,
            previous=max(0, previous),
            current=max(0, current),
            into=into,
            seconds=self.rate.seconds,
        )


# The reservation in every bucket at once (see buckets_reserve): KEYS are each bucket's
# current and previous window, ARGV each bucket's limit, the previous window's weight
# and the current window's time to live. Nothing is counted unless every bucket has
# room; then the answer is 0, else the (1-based) bucket that is full and its counts.
_RESERVE = """
local n = #KEYS / 2
for i = 1, n do
  local current = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local previous = math.max(0, tonumber(redis.call('GET', KEYS[2 * i]) or '0'))
  local limit, weight = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  if previous * weight + math.max(0, current) + 1 > limit then
    return {i, current, previous}
  end
end
for i = 1, n do
  if redis.call('INCR', KEYS[2 * i - 1]) == 1 then
    redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[3 * i])
  end
end
return {0}
"""
# Redis names a script by its SHA-1 (EVALSHA), so that the script is not sent each time.
_RESERVE_SHA = hashlib.sha1(_RESERVE.encode(), usedforsecurity=False).hexdigest()


def buckets_reserve(*, buckets: Sequence[Bucket], now: float) -> Reservation:
    """Count one event at ``now`` in every one of ``buckets`` if each has room for it,
    else in none: granted with the counted keys (``release()`` each to take the event
    back), or refused with the wait of the first full bucket.

    On Redis one round trip, a script that checks and counts as one step, so that no
    other caller's event comes between; on another cache each bucket in turn
    (``Bucket.reserve``), the ones counted already given back when a later one is full.
    """
    if not buckets:
        return Reservation(granted=True)
    windows = [int(now // bucket.rate.seconds) for bucket in buckets]
    keys = [bucket.key(window) for bucket, window in zip(buckets, windows, strict=True)]
    # The cache itself: ``cache`` is a proxy, which is no RedisCache.
    client = redis_client(
        caches[DEFAULT_CACHE_ALIAS], key=cache.make_and_validate_key(keys[0]), write=True
    )
    if client is None:
        return _buckets_reserve_in_turn(buckets=buckets, now=now)
    script_keys: list[str] = []
    script_args: list[float | int] = []
    for bucket, window, key in zip(buckets, windows, keys, strict=True):
        script_keys += [
            cache.make_and_validate_key(key),
            cache.make_and_validate_key(bucket.key(window - 1)),
        ]
        into = now - window * bucket.rate.seconds
        script_args += [bucket.rate.limit, 1 - into / bucket.rate.seconds, bucket.ttl]
    try:
        answer = client.evalsha(_RESERVE_SHA, len(script_keys), *script_keys, *script_args)
    except NoScriptError:  # a Redis that has not seen the script yet (or was restarted)
        answer = client.eval(_RESERVE, len(script_keys), *script_keys, *script_args)
    full = int(answer[0])
    if full == 0:
        return Reservation(granted=True, keys=tuple(keys))
    current, previous = int(answer[1]), int(answer[2])
    wait = buckets[full - 1].wait(now, previous=previous, current=current)
    return Reservation(granted=False, wait=wait)


def _buckets_reserve_in_turn(*, buckets: Sequence[Bucket], now: float) -> Reservation:
    # The previous windows' counts only weigh in: one read for every bucket.
    previous_keys = [bucket.previous_key(now) for bucket in buckets]
    counts = cache.get_many(previous_keys)
    keys: list[str] = []
    for bucket, previous_key in zip(buckets, previous_keys, strict=True):
        reservation = bucket.reserve(now, previous=int(counts.get(previous_key, 0)))
        if not reservation.granted:
            for key in keys:
                release(key)
            return reservation
        keys += reservation.keys
    return Reservation(granted=True, keys=tuple(keys))


def release(key: str) -> None:
    """Take back an event counted under ``key`` (one of a reservation's ``keys``)."""
    with suppress(ValueError):  # already expired: nothing to take back
        cache.decr(key)


def _incr(key: str, *, timeout: int) -> int:
    """Add one to the counter under ``key`` (created at 0 first); atomic on Redis and
    Memcached, so concurrent callers each get a count of their own."""
    for _ in range(3):
        cache.add(key, 0, timeout)
        try:
            count = int(cache.incr(key))
        except ValueError:  # evicted between add and incr: start again
            continue
        if count == 1:
            # Django's Redis incr() recreates a key that expired under it, without an
            # expiry; a counter that never expires would lock its bucket for good.
            cache.touch(key, timeout)
        return count
    raise RuntimeError(f"The cache keeps losing the counter {key!r}.")


def _seconds_until_room(
    *, limit: int, previous: int, current: int, into: float, seconds: int
) -> float:
    """How long until one more event fits, if nothing else is counted meanwhile:
    ``current`` events in this window (``into`` seconds old), ``previous`` in the last."""
    if current + 1 <= limit and previous > 0:
        # Room comes in this window, as the previous one's weight falls.
        at = seconds * (1 - (limit - current - 1) / previous)
        if at < seconds:
            return max(0.0, at - into)
    # Only in the next window, where this window's count is the weighted one.
    at = seconds * (1 - (limit - 1) / current) if current > 0 and limit >= 1 else 0.0
    return seconds - into + max(0.0, min(at, float(seconds)))


def bucket_ident(*parts: str) -> str:
    """A bucket's ``ident`` for what it counts by (a username, an address, an owner):
    long or odd values make neither long nor odd cache keys."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()


def username_normalise(username: str) -> str:
    """The form in which a username is counted: NFKC, as ``create_user()`` stores it
    (a fullwidth "foo" is "foo"), and case-folded, so that no spelling an authentication
    backend might match to one account gets a bucket of its own."""
    # Case-folding can leave a string that is no longer NFKC, hence the second pass.
    return unicodedata.normalize("NFKC", get_user_model().normalize_username(username).casefold())


def address_normalise(address: str | None) -> str:
    """The form in which a client address (as ``client_ip`` gives it: a valid IP
    address, or None) is counted: IPv6 by its /64 network."""
    if not address:
        return "unknown"
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{_IPV6_PREFIX}", strict=False))
    return str(parsed)


def client_address_key(request: HttpRequest) -> str:
    """The client address under which a throttle counts ``request``: ``client_ip``
    (which honours ``TRUSTED_PROXY_COUNT`` and ignores what is not an IP address),
    IPv6 by its /64 network. Every address-keyed throttle counts by this."""
    return address_normalise(client_ip(request))


def login_buckets(*, address: str | None, username: str) -> list[Bucket]:
    """The three buckets a failed login of ``username`` from ``address`` counts in,
    strictest first; a bucket whose rate setting is None is left out."""
    where, name = address_normalise(address), username_normalise(username)
    candidates = [
        (
            "login_ip_username",
            bucket_ident(where, name),
            app_settings.LOGIN_THROTTLE_IP_USERNAME_RATE,
        ),
        ("login_ip", bucket_ident(where), app_settings.LOGIN_THROTTLE_IP_RATE),
        ("login_username", bucket_ident(name), app_settings.LOGIN_THROTTLE_USERNAME_RATE),
    ]
    return [
        Bucket(scope=scope, ident=ident, rate=rate)
        for scope, ident, setting in candidates
        if (rate := Rate.parse(setting)) is not None
    ]


class LoginAttempt:
    """A login attempt counted in advance; ``failed()`` keeps it counted."""

    def __init__(self) -> None:
        self.is_failure = False

    def failed(self) -> None:
        """The credentials were wrong: the attempt stays counted as a failed login."""
        self.is_failure = True


@contextmanager
def login_attempt_reserve(*, request: HttpRequest | None, username: str) -> Iterator[LoginAttempt]:
    """Count a failed login of ``username`` from the request's client address *before*
    the password is checked; ``429 throttled`` (``LoginThrottled``) when a bucket is full.

    Check the password inside the block and call ``attempt.failed()`` when it is wrong.
    Leaving the block otherwise (a right password, or an error) gives the count back.
    A throttled attempt is not counted, so being throttled does not prolong it.
    """
    address = client_ip(request) if request is not None else None
    buckets = login_buckets(address=address, username=username)
    reservation = buckets_reserve(buckets=buckets, now=time.time())
    if not reservation.granted:
        raise LoginThrottled(wait=max(1, math.ceil(reservation.wait)))
    attempt = LoginAttempt()
    try:
        yield attempt
    finally:
        if not attempt.is_failure:
            for key in reservation.keys:
                release(key)


class BucketThrottle(BaseThrottle):
    """A DRF throttle over sliding-window buckets, reserved with ``buckets_reserve``
    (every bucket at once or none, atomically on Redis and Memcached). A subclass names
    the buckets a request counts in (``buckets``); ``wait()`` is in whole seconds, at
    least one (``Retry-After`` is an integer, and 0 would invite a retry refused again).
    """

    def __init__(self) -> None:
        self._wait = 0.0

    def buckets(self, request: Any) -> list[Bucket]:
        """The buckets ``request`` counts in; none is no limit."""
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        reservation = buckets_reserve(buckets=self.buckets(request), now=time.time())
        self._wait = reservation.wait
        return reservation.granted

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))


class RegisterThrottle(BucketThrottle):
    """Accounts created from one client address (``REGISTER_THROTTLE_RATE``): every
    registration request counts, refused or not, and parallel ones cannot pass it."""

    def buckets(self, request: Any) -> list[Bucket]:
        # Read at request time, so settings overrides apply.
        rate = Rate.parse(app_settings.REGISTER_THROTTLE_RATE)
        if rate is None:
            return []
        ident = bucket_ident(client_address_key(request))
        return [Bucket(scope="register", ident=ident, rate=rate)]
