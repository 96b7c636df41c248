"""The settings tasks_api reads, each with its default (a project sets what it changes)."""

from __future__ import annotations

from typing import Any

from sessions_api.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Enqueues per owner (the user, or the anonymous session); DRF rate syntax.
    "TASKS_ENQUEUE_RATE": "60/min",
    # Enqueues of all anonymous owners from one client address together; DRF rate syntax.
    "TASKS_ENQUEUE_ADDRESS_RATE": "120/min",
    # Unfinished tasks (queued, waiting on a countdown, or running) one owner may have.
    "TASKS_MAX_ACTIVE_PER_OWNER": 20,
    # mail.send recipients per user in any 24 hours.
    "TASKS_MAIL_DAILY_RECIPIENTS": 100,
    # Registered task types switched off: not listed, not accepted, not run by a worker.
    "TASKS_DISABLED_TYPES": (),
    # Seconds a publish may wait for the broker's confirm (then the outbox keeps it).
    "TASKS_PUBLISH_TIMEOUT": 2,
    # Due messages the outbox may hold unsent (the broker away) before enqueue is 503.
    "TASKS_OUTBOX_MAX": 10000,
    # The longest a task may be scheduled ahead (countdown or run_after), in seconds.
    "TASKS_MAX_DELAY_SECONDS": 30 * 24 * 3600,
    # Task records and their results are deleted this many days after submission.
    "TASKS_RETENTION_DAYS": 7,
}

app_settings = AppSettings(DEFAULTS)
