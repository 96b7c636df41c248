"""The throttle buckets (``sessions_api.throttling``): a sliding window, reserved in
every bucket at once or in none, atomically under parallel callers.

Each test runs on the configured Redis cache (one script a reservation) and on
Django's local-memory cache (each bucket in turn), the two ways ``buckets_reserve``
counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from sessions_api.engines.django_internals import redis_client
from sessions_api.throttling import _RESERVE_SHA, Bucket, Rate, buckets_reserve, release
from tests.support.caches import LOCMEM_CACHE

# 60 s windows; a moment 59 s into window 1000 (explicit clock values throughout).
END_OF_WINDOW = 60 * 1000 + 59.0


@pytest.fixture(params=["redis", "locmem"])
def kind(request: pytest.FixtureRequest, redis_server: None) -> Iterator[str]:
    if request.param == "redis":
        assert isinstance(caches["default"], RedisCache), "Redis is the tests' cache when up"
        yield request.param
    else:
        with override_settings(CACHES=LOCMEM_CACHE):
            yield request.param


def bucket(limit: int, seconds: int = 60) -> Bucket:
    return Bucket(scope="test", ident=uuid.uuid4().hex, rate=Rate(limit=limit, seconds=seconds))


def reserve(*buckets: Bucket, now: float = END_OF_WINDOW) -> bool:
    return buckets_reserve(buckets=buckets, now=now).granted


def test_a_burst_at_a_window_boundary_gets_the_limit_not_twice_it(kind):
    """The last window's count still weighs at the start of the next, so the limit
    cannot be spent twice within a few seconds."""
    five = bucket(5)
    assert [reserve(five) for _ in range(6)] == [True] * 5 + [False]
    full = buckets_reserve(buckets=[five], now=END_OF_WINDOW + 2)  # in the next window
    assert not full.granted
    # The previous window's 5 weigh 5 * (1 - t/60) at t seconds into this one; a sixth
    # fits once that is at most 4, at t = 12.
    assert full.wait == pytest.approx(11.0)
    assert not reserve(five, now=END_OF_WINDOW + 1 + 11.5)
    assert reserve(five, now=END_OF_WINDOW + 1 + 12.5)


def test_a_full_bucket_counts_the_event_in_none(kind):
    roomy, strict = bucket(3), bucket(1)
    granted = buckets_reserve(buckets=[roomy, strict], now=END_OF_WINDOW)
    assert granted.granted and len(granted.keys) == 2
    refused = buckets_reserve(buckets=[roomy, strict], now=END_OF_WINDOW)
    assert not refused.granted and refused.keys == ()
    # The strict bucket's one event weighs fully at the start of the next window, and
    # leaves room only once that window is over: 1 s, then 60.
    assert refused.wait == pytest.approx(61.0)
    # The refusal spent nothing of the roomy bucket: two of its three are left.
    assert [reserve(roomy) for _ in range(3)] == [True, True, False]


def test_a_released_event_is_room_again(kind):
    one = bucket(1)
    reservation = buckets_reserve(buckets=[one], now=END_OF_WINDOW)
    assert not reserve(one)
    for key in reservation.keys:
        release(key)
    assert reserve(one)


def test_no_buckets_is_no_limit(kind):
    assert buckets_reserve(buckets=[], now=END_OF_WINDOW).granted


def test_parallel_callers_cannot_pass_the_limit(kind):
    five = bucket(5)
    with ThreadPoolExecutor(max_workers=16) as pool:
        granted = list(pool.map(lambda _: reserve(five), range(40)))
    assert granted.count(True) == 5


def test_a_redis_that_forgot_the_script_is_sent_it_again(redis_server):
    assert isinstance(caches["default"], RedisCache)
    client = redis_client(caches["default"], key="any", write=True)
    two = bucket(2)
    assert reserve(two)
    client.script_flush()
    assert client.script_exists(_RESERVE_SHA) == [False]
    assert reserve(two)
    assert client.script_exists(_RESERVE_SHA) == [True]  # the count went through it
    assert not reserve(two)


def test_a_count_is_kept_through_the_next_window_and_no_longer(redis_server):
    """The current window's key expires, so a bucket never holds counts for good."""
    assert isinstance(caches["default"], RedisCache)
    one = bucket(1, seconds=10)
    (key,) = buckets_reserve(buckets=[one], now=END_OF_WINDOW).keys
    ttl = redis_client(caches["default"], key="any").ttl(cache.make_and_validate_key(key))
    assert one.ttl - 2 <= ttl <= one.ttl == 2 * 10 + 60
