"""The task registry: which task types exist, who may run them, and what they take.

One place maps a public task name to its arguments serializer, who may run it
(``anyone``, ``user`` or ``staff``) and its Celery task. ``GET /api/v1/tasks/types/``
and ``POST /api/v1/tasks/`` read nothing else, and the JSON Schema of each type's
arguments is derived from its serializer. Adding a type is one function decorated with
``tasks_api.runtime.task_type`` and its serializer (in ``tasks_api/tasks.py``, or any
app's ``tasks.py``)::

    class ShoutArgs(ArgsSerializer):
        text = StrictCharField(max_length=100, help_text="What to shout.")

    @task_type("demo.shout", args=ShoutArgs, requires="anyone")
    def shout(task, *, text):
        \"\"\"Upper-case a text (this docstring is the type's description).\"\"\"
        return text.upper()

This module is the catalogue only (what exists); how a registered task runs in the
worker is ``tasks_api.runtime``. The function receives the Celery task (``task.report_progress()``,
``task.stop_if_cancelled()``) and the validated arguments as keywords; what it returns
(plain JSON) is the task's ``result``.

``TASKS_DISABLED_TYPES`` takes types out of the catalogue: a switched-off type is not
listed, not accepted and not run, as if it were not registered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Task
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from tasks_api.conf import app_settings
from tasks_api.policy import Requires
from tasks_api.spectacular_internals import serializer_json_schema


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
    # Called by the enqueue service in its transaction, with the owner's enqueues
    # serialized and the new record saved: it may write beside the record, or raise an
    # APIException to refuse the task (mail.send reserves its recipients here).
    on_enqueue: Callable[..., None] | None = None


REGISTRY: dict[str, TaskType] = {}


def task_type_register(task_type: TaskType) -> None:
    """Add a type to the catalogue; a name may be registered once."""
    if task_type.name in REGISTRY:
        raise ImproperlyConfigured(f"Task type {task_type.name!r} is registered twice.")
    REGISTRY[task_type.name] = task_type


def _disabled() -> frozenset[str]:
    # Read at each call, so an overridden setting applies (tests, reloads).
    return frozenset(app_settings.TASKS_DISABLED_TYPES)


def task_type_get(name: str) -> TaskType | None:
    """The enabled type of this name, or None (unknown, or in TASKS_DISABLED_TYPES)."""
    if name in _disabled():
        return None
    return REGISTRY.get(name)


def task_types() -> list[TaskType]:
    """The enabled types, by name."""
    disabled = _disabled()
    return sorted(
        (item for item in REGISTRY.values() if item.name not in disabled),
        key=lambda item: item.name,
    )


@functools.cache  # a type's serializer does not change while the process runs
def args_json_schema(serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """The JSON Schema of a type's arguments, as drf-spectacular maps the serializer.

    The same machinery that writes ``openapi/schema.yaml``, so limits, defaults and
    help texts appear exactly as in the OpenAPI document. Arguments are flat (no nested
    serializers), so the schema is self-contained, with no ``$ref``.
    """
    mapped = serializer_json_schema(serializer_class)
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
