"""Signal receivers: the session side tells the task side of logins through Django, and
Celery tells the task's streams that a task ended."""

from __future__ import annotations

from typing import Any

from celery.signals import task_postrun, task_revoked
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from tasks_api import services
from tasks_api.events import task_event_publish
from tasks_api.runtime import RegisteredTask


@receiver(user_logged_in, dispatch_uid="tasks_api.adopt_anonymous_tasks")
def adopt_anonymous_tasks(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    services.tasks_adopt_anonymous(user=user, session=getattr(request, "session", None))


@task_postrun.connect(dispatch_uid="tasks_api.task_ended")
def announce_task_end(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    # After the final state is stored (also for a task dropped as cancelled).
    if isinstance(sender, RegisteredTask) and task_id:
        task_event_publish(task_id=task_id)


@task_revoked.connect(dispatch_uid="tasks_api.task_revoked")
def announce_task_revoked(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    # A worker dropped a revoked message without running it.
    if isinstance(sender, RegisteredTask) and request is not None and request.id:
        task_event_publish(task_id=request.id)
