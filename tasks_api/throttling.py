"""Rate limits on enqueuing tasks: per owner, and per client address for anonymous owners."""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from sessions_api.engines import api_session
from sessions_api.throttling import client_address_key
from tasks_api.conf import app_settings
from tasks_api.selectors import task_owner


class TaskEnqueueThrottle(SimpleRateThrottle):
    """``TASKS_ENQUEUE_RATE`` enqueues per owner: the user, or the anonymous session.

    An anonymous caller without a session yet (or one dropping its cookies) counts
    against its client address instead, so starting fresh sessions does not escape
    the limit. The counts live in the configured cache (shared only when that cache is).
    """

    scope = "tasks_enqueue"

    def get_rate(self) -> str:
        # Read at request time, so an overridden setting applies (tests, reloads).
        rate: str = app_settings.TASKS_ENQUEUE_RATE
        return rate

    def get_cache_key(self, request: Any, view: Any) -> str:
        owner = task_owner(user=request.user, session=api_session(request))
        ident = owner.ident if owner is not None else f"address:{client_address_key(request)}"
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class TaskEnqueueAddressThrottle(SimpleRateThrottle):
    """``TASKS_ENQUEUE_ADDRESS_RATE`` enqueues by every anonymous owner of one address.

    Each fresh session is a new owner with its own ``TASKS_ENQUEUE_RATE``; this budget
    is what they share, so opening sessions does not multiply the rate. Logged-in users
    are not counted here (their own rate follows them, whatever their address). The
    address is ``sessions_api.throttling.client_address_key``, as for every address-keyed
    throttle.
    """

    scope = "tasks_enqueue_address"

    def get_rate(self) -> str:
        rate: str = app_settings.TASKS_ENQUEUE_ADDRESS_RATE
        return rate

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_address_key(request)}
