"""The rules of the task resource, defined once: states, who may run a type, bounds.

The services enforce them, the serializers and the OpenAPI schema describe them, and
the console is given them by the server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, get_args

from tasks_api.conf import app_settings

# Who may run a task type.
Requires = Literal["anyone", "user", "staff"]
REQUIRES: tuple[str, ...] = get_args(Requires)

# Celery's states plus the one our tasks report while they run.
PROGRESS = "PROGRESS"
STATES = ("PENDING", "STARTED", PROGRESS, "RETRY", "SUCCESS", "FAILURE", "REVOKED")
FINAL_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})

# A message the web process publishes itself right after the commit is left to the
# relay only if it is still unsent this long after: the process died in between (a
# publish gives up within a few seconds: a connection attempt and a confirm).
FAST_PATH_GRACE = timedelta(seconds=10)
# How long a relay's claim on the rows of its batch holds: a relay killed mid-batch
# leaves them due again this long after it took them.
RELAY_LEASE = timedelta(seconds=30)

# How long an Idempotency-Key names the first task it was sent with, and its size.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX_LENGTH = 255

# TASKS_MAX_ACTIVE_PER_OWNER counts the unfinished tasks enqueued within this window: a
# task still unfinished a day later has lost its message (the broker's data went), and
# must not hold its owner back until the retention prune.
ACTIVE_TASK_WINDOW = timedelta(hours=24)
# Retry-After of a refusal for too many unfinished tasks: when one finishes is unknown,
# and a short wait costs the client one more request against its enqueue rate.
ACTIVE_TASK_RETRY_SECONDS = 10

# TASKS_MAIL_DAILY_RECIPIENTS counts the recipients of a user's mail.send tasks
# enqueued within this rolling window.
MAIL_RECIPIENTS_WINDOW = timedelta(hours=24)

# The largest task list page, in bytes of JSON: a page stops before the task that
# would pass it. A page holds at least one task; no built-in type's task is this large
# (1 MiB of text.stats control characters is 6 MiB of JSON escapes).
MAX_PAGE_BYTES = 8 * 1024 * 1024


def rules() -> dict[str, object]:
    """The rules a client shows, as plain JSON (the console's page config)."""
    return {
        "states": list(STATES),
        "final_states": sorted(FINAL_STATES),
        "max_countdown_seconds": app_settings.TASKS_MAX_DELAY_SECONDS,
    }
