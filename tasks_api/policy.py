"""The rules of the task resource, defined once: states, who may run a type, bounds.

The services enforce them, the serializers and the OpenAPI schema describe them, and
the console is given them by the server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, get_args

# Who may run a task type.
Requires = Literal["anyone", "user", "staff"]
REQUIRES: tuple[str, ...] = get_args(Requires)

# Celery's states plus the one our tasks report while they run.
PROGRESS = "PROGRESS"
STATES = ("PENDING", "STARTED", PROGRESS, "RETRY", "SUCCESS", "FAILURE", "REVOKED")
FINAL_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})

# The longest countdown a task may be given, in seconds: a countdown is held unacked
# by a worker until it is due.
MAX_COUNTDOWN_SECONDS = 900

# How long an Idempotency-Key names the first task it was sent with, and its size.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def rules() -> dict[str, object]:
    """The rules a client shows, as plain JSON (the console's page config)."""
    return {
        "states": list(STATES),
        "final_states": sorted(FINAL_STATES),
        "max_countdown_seconds": MAX_COUNTDOWN_SECONDS,
    }
