"""The result backend tasks_api asks for: django-celery-results' table, where a task
that has finished stays finished.

Celery overwrites a finished task's state in one case that matters here: a worker that
loses its broker connection cancels its unacknowledged tasks
(``worker_cancel_long_running_tasks_on_connection_loss``, so that the redelivered copy
is the only one running) and marks each ``RETRY``, also one whose pool process has just
stored ``SUCCESS``. The API would then show ``RETRY`` with the result gone, and the
redelivered message would run the task a second time. Here a state that is not final
never replaces a final one: the task reads as it ended, and the redelivery is dropped as
a copy of a finished task (``services.task_start``).
"""

from __future__ import annotations

from typing import Any

from celery import states
from django_celery_results.backends import DatabaseBackend
from django_celery_results.models import TaskResult


class ResultBackend(DatabaseBackend):
    """django-celery-results' ``DatabaseBackend``, except that a final state stays."""

    def _store_result(
        self,
        task_id: str,
        result: Any,
        status: str,
        traceback: Any = None,
        request: Any = None,
        using: Any = None,
    ) -> Any:
        if status not in states.READY_STATES:
            finished = TaskResult.objects.filter(task_id=task_id, status__in=states.READY_STATES)
            if finished.exists():
                return result
        return super()._store_result(task_id, result, status, traceback, request, using)
