"""Rate limits on enqueuing tasks: per owner, and per client address for anonymous owners.

Both are counted as one reservation (``sessions_api.throttling.buckets_reserve``): on
Redis a single round trip that checks and counts every bucket at once, so that parallel
enqueues cannot pass a rate, and a request refused by one bucket is counted in none.
Each bucket is a sliding window over the configured cache (shared only when that cache
is), like the failed-login buckets.
"""

from __future__ import annotations

from typing import Any

from sessions_api.engines import api_session
from sessions_api.throttling import (
    Bucket,
    BucketThrottle,
    Rate,
    bucket_ident,
    client_address_key,
)
from tasks_api.conf import app_settings
from tasks_api.selectors import task_owner


class TaskEnqueueThrottle(BucketThrottle):
    """``TASKS_ENQUEUE_RATE`` enqueues per owner (the user, or the anonymous session),
    and ``TASKS_ENQUEUE_ADDRESS_RATE`` by every anonymous owner of one client address.

    An anonymous caller without a session yet (or one dropping its cookies) counts its
    own rate against its client address, so starting fresh sessions does not escape the
    limit. The address budget is what an address's anonymous owners share, so opening
    sessions does not multiply the rate; logged-in users are not counted there (their
    own rate follows them, whatever their address). The address is
    ``sessions_api.throttling.client_address_key``, as for every address-keyed throttle.
    """

    def buckets(self, request: Any) -> list[Bucket]:
        return task_enqueue_buckets(request)


def task_enqueue_buckets(request: Any) -> list[Bucket]:
    """The buckets an enqueue of ``request``'s caller counts in (a rate set to None is
    no bucket)."""
    buckets: list[Bucket] = []
    owner = task_owner(user=request.user, session=api_session(request))
    # A logged-in user counts by their own rate only, whatever the address.
    address = None if request.user.is_authenticated else client_address_key(request)
    owner_ident = owner.ident if owner is not None else f"address:{address}"
    if (rate := Rate.parse(app_settings.TASKS_ENQUEUE_RATE)) is not None:
        buckets.append(Bucket(scope="tasks_enqueue", ident=bucket_ident(owner_ident), rate=rate))
    address_rate = Rate.parse(app_settings.TASKS_ENQUEUE_ADDRESS_RATE)
    if address is not None and address_rate is not None:
        ident = bucket_ident(address)
        buckets.append(Bucket(scope="tasks_enqueue_address", ident=ident, rate=address_rate))
    return buckets
