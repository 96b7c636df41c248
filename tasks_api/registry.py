"""The task registry: which task types exist, who may run them, and what they take.

One place maps a public task name to its arguments serializer, who may run it
(``anyone``, ``user`` or ``staff``) and its Celery task. ``GET /api/v1/tasks/types/``
and ``POST /api/v1/tasks/`` read nothing else, and the JSON Schema of each type's
arguments is derived from its serializer. Adding a type is one decorated function and
its serializer (in ``tasks_api/tasks.py``, or any app's ``tasks.py``)::

    class ShoutArgs(ArgsSerializer):
        text = StrictCharField(max_length=100, help_text="What to shout.")

    @task_type("demo.shout", args=ShoutArgs, requires="anyone")
    def shout(task, *, text):
        \"\"\"Upper-case a text (this docstring is the type's description).\"\"\"
        return text.upper()

The function receives the Celery task (``task.report_progress()``,
``task.stop_if_cancelled()``) and the validated arguments as keywords; what it returns
(plain JSON) is the task's ``result``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, get_args

from celery import Task, shared_task
from celery.exceptions import Ignore
from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.views import APIView

Requires = Literal["anyone", "user", "staff"]
REQUIRES: tuple[str, ...] = get_args(Requires)

# Celery's states plus the one our tasks report while they run.
PROGRESS = "PROGRESS"
STATES = ("PENDING", "STARTED", PROGRESS, "RETRY", "SUCCESS", "FAILURE", "REVOKED")
FINAL_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})


class ArgsSerializer(serializers.Serializer):
    """Base of every arguments serializer: an unknown argument is an error, not ignored."""

    default_error_messages = {"unknown": "Unknown argument; the type's schema lists them."}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [self.error_messages["unknown"]] for name in unknown},
                    code="unknown",
                )
        return super().to_internal_value(data)


@dataclass(frozen=True)
class TaskType:
    """One registered task type."""

    name: str
    args: type[serializers.Serializer]
    requires: Requires
    task: Task
    description: str


REGISTRY: dict[str, TaskType] = {}


class RegisteredTask(Task):
    """Base class of every registered type's Celery task.

    A task runs only for a live, uncancelled task record: ``before_start`` claims the
    record (``services.task_start``) and stops the task as ``REVOKED`` when it was
    cancelled while queued, or when no record exists. That check, not Celery's
    in-memory revoke list, is what guarantees that a cancelled task never runs: it
    holds after a worker restart and on brokers without broadcast.
    """

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        from tasks_api.services import task_start

        if not task_start(task_id=task_id):
            self.stop_cancelled()

    def is_cancelled(self) -> bool:
        from tasks_api.selectors import task_cancel_requested

        return task_cancel_requested(task_id=self.request.id)

    def stop_if_cancelled(self) -> None:
        """Call between steps of long work: ends the task ``REVOKED`` if cancelled."""
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


def task_type(
    name: str,
    *,
    args: type[serializers.Serializer],
    requires: Requires = "anyone",
    **celery_options: Any,
) -> Callable[[Callable[..., Any]], Task]:
    """Register ``fn`` as the task type ``name`` (also its Celery task name)."""
    if requires not in REQUIRES:
        raise ImproperlyConfigured(f"Task type {name!r}: requires must be one of {REQUIRES}.")
    if not issubclass(args, ArgsSerializer):
        raise ImproperlyConfigured(f"Task type {name!r}: args must subclass ArgsSerializer.")

    def register(fn: Callable[..., Any]) -> Task:
        if name in REGISTRY:
            raise ImproperlyConfigured(f"Task type {name!r} is registered twice.")
        task = shared_task(name=name, bind=True, base=RegisteredTask, **celery_options)(fn)
        REGISTRY[name] = TaskType(
            name=name,
            args=args,
            requires=requires,
            task=task,
            description=inspect.getdoc(fn) or "",
        )
        return task

    return register


def task_type_get(name: str) -> TaskType | None:
    return REGISTRY.get(name)


def task_types() -> list[TaskType]:
    return sorted(REGISTRY.values(), key=lambda item: item.name)


@functools.cache  # a type's serializer does not change while the process runs
def args_json_schema(serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """The JSON Schema of a type's arguments, as drf-spectacular maps the serializer.

    The same machinery that writes ``openapi/schema.yaml``, so limits, defaults and
    help texts appear exactly as in the OpenAPI document. Arguments are flat (no nested
    serializers), so the schema is self-contained, with no ``$ref``.
    """
    schema = AutoSchema()
    schema.registry = SchemaGenerator().registry
    view = APIView()
    view.request = None  # drf-spectacular builds a serializer context from the view
    schema.view = view
    schema.method, schema.path = "POST", "/"
    mapped = schema._map_serializer(serializer_class(), "request")
    if schema.registry._components:
        raise ImproperlyConfigured(
            f"{serializer_class.__name__}: task arguments must be flat JSON fields."
        )
    mapped = _strip_extensions(mapped)
    mapped.pop("description", None)  # the serializer's docstring, not for clients
    mapped.setdefault("properties", {})
    mapped.setdefault("required", [])
    mapped["additionalProperties"] = False
    return mapped


def _strip_extensions(node: Any) -> Any:
    """Drop drf-spectacular's ``x-`` bookkeeping keys, which mean nothing to clients."""
    if isinstance(node, dict):
        return {k: _strip_extensions(v) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [_strip_extensions(item) for item in node]
    return node
