"""The settings tasks_api reads, each with its default (a project sets what it changes)."""

from __future__ import annotations

from typing import Any

from sessions_api.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Enqueues per owner (the user, or the anonymous session); DRF rate syntax.
    "TASKS_ENQUEUE_RATE": "60/min",
    # Seconds a publish may wait for the broker's confirm before the answer is 503.
    "TASKS_PUBLISH_TIMEOUT": 2,
    # Task records and their results are deleted this many days after submission.
    "TASKS_RETENTION_DAYS": 7,
}

app_settings = AppSettings(DEFAULTS)
