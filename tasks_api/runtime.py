"""How a registered task type runs in the worker: its Celery base class and decorator.

``@task_type(name, args=..., requires=...)`` makes the function a Celery task (named
``name``) on ``RegisteredTask`` and adds it to the catalogue (``tasks_api.registry``).
``RegisteredTask`` ties each run to its task record through the services.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from typing import Any, NoReturn

from celery import Task, shared_task, states
from celery.exceptions import Ignore
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from tasks_api.events import task_event_publish
from tasks_api.policy import PROGRESS, REQUIRES, Requires
from tasks_api.registry import ArgsSerializer, TaskType, task_type_get, task_type_register
from tasks_api.selectors import task_cancel_requested
from tasks_api.services import StartClaim, task_start

logger = logging.getLogger(__name__)


class TaskTypeDisabled(Exception):
    """A queued task's type was switched off (``TASKS_DISABLED_TYPES``) before it ran."""


class RegisteredTask(Task):
    """Base class of every registered type's Celery task.

    A task runs only for a live, uncancelled task record of an active owner:
    ``before_start`` claims the record (``services.task_start``) and stops the task as
    ``REVOKED`` when it was cancelled while queued, when its owner's account was
    deactivated, or when no record exists; a second copy of a message that was
    published twice is dropped without a trace. That check, not Celery's in-memory revoke
    list, is what guarantees that a cancelled task never runs: it holds after a worker
    restart and on brokers without broadcast. A task whose type this worker has
    switched off ends ``FAILURE`` (``TaskTypeDisabled``) without starting.
    """

    # Celery's own STARTED is stored before before_start, so a second copy of a message
    # would overwrite the first copy's state; before_start stores it after the claim.
    track_started = False

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        if task_type_get(self.name) is None:
            raise TaskTypeDisabled(f"The task type {self.name!r} is switched off on this server.")
        # Delivered again by the broker (its worker died before the ack), or a retry
        # the task asked for: either may run a started task again; another copy may not.
        again = bool((self.request.delivery_info or {}).get("redelivered")) or bool(
            self.request.retries
        )
        claim = task_start(task_id=task_id, redelivered=again)
        if claim is StartClaim.DUPLICATE:
            # A second copy of the message (see tasks_api.relay): acknowledged, and the
            # state the first copy wrote is left as it is.
            logger.info("Task %s[%s]: a second copy of its message, dropped.", self.name, task_id)
            raise Ignore()
        if claim is StartClaim.REFUSED:
            self.stop_cancelled()
        # STARTED once claimed (see track_started).
        self.backend.store_result(
            task_id,
            {"pid": os.getpid(), "hostname": self.request.hostname},
            states.STARTED,
            request=self.request,
        )
        task_event_publish(task_id=task_id)

    def is_cancelled(self) -> bool:
        return task_cancel_requested(task_id=self.request.id)

    def stop_if_cancelled(self) -> None:
        """Call between steps of long work: ends the task ``REVOKED`` if cancelled (or
        its owner's account deactivated)."""
        if self.is_cancelled():
            self.stop_cancelled()

    def stop_cancelled(self) -> NoReturn:
        self.backend.mark_as_revoked(self.request.id, reason="cancelled", request=self.request)
        # Ignore: Celery records nothing more, and the message is acknowledged.
        raise Ignore()

    def report_progress(self, *, current: int, total: int, message: str | None = None) -> None:
        """Publish ``PROGRESS`` with the contract's progress object."""
        percent = round(100.0 * current / total, 1) if total else 100.0
        self.update_state(
            state=PROGRESS,
            meta={"current": current, "total": total, "percent": percent, "message": message},
        )
        task_event_publish(task_id=self.request.id)


def task_type(
    name: str,
    *,
    args: type[serializers.Serializer],
    requires: Requires = "anyone",
    on_enqueue: Callable[..., None] | None = None,
    **celery_options: Any,
) -> Callable[[Callable[..., Any]], Task]:
    """Register ``fn`` as the task type ``name`` (also its Celery task name).

    ``on_enqueue(record=...)``, when given, runs in the enqueue transaction (see
    ``TaskType.on_enqueue``).
    """
    if requires not in REQUIRES:
        raise ImproperlyConfigured(f"Task type {name!r}: requires must be one of {REQUIRES}.")
    if not issubclass(args, ArgsSerializer):
        raise ImproperlyConfigured(f"Task type {name!r}: args must subclass ArgsSerializer.")

    def register(fn: Callable[..., Any]) -> Task:
        task = shared_task(name=name, bind=True, base=RegisteredTask, **celery_options)(fn)
        task_type_register(
            TaskType(
                name=name,
                args=args,
                requires=requires,
                task=task,
                description=inspect.getdoc(fn) or "",
                on_enqueue=on_enqueue,
            )
        )
        return task

    return register
