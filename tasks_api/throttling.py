"""Rate limits on enqueuing tasks: per owner, and per client address for anonymous owners.

Both are counted as one reservation (``sessions_api.throttling.buckets_reserve``): on
Redis a single round trip that checks and counts every bucket at once, so that parallel
enqueues cannot pass a rate, and a request refused by one bucket is counted in none.
Each bucket is a sliding window over the configured cache (shared only when that cache
is), like the failed-login buckets.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sessions_api.engines import api_session
from sessions_api.throttling import Bucket, BucketThrottle, Rate, client_address_key
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
    user = request.user
    owner = task_owner(user=user, session=api_session(request))
    address = client_address_key(request)
    ident = owner.ident if owner is not None else f"address:{address}"
    candidates = [
        ("tasks_enqueue", _digest(ident), app_settings.TASKS_ENQUEUE_RATE),
        (
            "tasks_enqueue_address",
            _digest(address),
            None if user.is_authenticated else app_settings.TASKS_ENQUEUE_ADDRESS_RATE,
        ),
    ]
    return [
        Bucket(scope=scope, ident=digest, rate=rate)
        for scope, digest, setting in candidates
        if (rate := Rate.parse(setting)) is not None
    ]


def _digest(ident: str) -> str:
    # Owner idents and addresses can be long; cache keys should not be.
    return hashlib.sha256(ident.encode()).hexdigest()[:32]
