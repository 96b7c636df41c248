"""The service's Celery app, plus one plain task for the raw round trip.

The benchmark's worker runs ``celery -A bench.celery_app worker``: every task type of
the service (``demo.add`` included) and ``bench.add``, a bare Celery task doing the same
sum. ``demo.add`` cannot serve as the raw baseline of the round trip, because the
service's tasks refuse to run without the task record that ``POST /api/v1/tasks/``
writes (``RegisteredTask.before_start``); ``bench.add`` is what a plain Celery user
would have, on the same broker, result backend and worker.
"""

from __future__ import annotations

from api_project.celery import app

__all__ = ["add", "app"]


@app.task(name="bench.add")
def add(a: float, b: float) -> float:
    return a + b
