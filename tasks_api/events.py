"""Task events: the task object, published on its owner's channel at every change.

Each event's data is the task exactly as ``GET /api/v1/tasks/{id}/`` renders it (the
same selector and ``TASK`` shape, written by the API's JSON renderer), read back after
the change was stored. Who publishes what:

* the web process: the task as queued (before its message goes to the broker, so no
  worker's event can come before it) and the task after a cancel;
* the worker: the task once claimed (``STARTED``), after each progress report, and once
  it has ended (Celery's ``task_postrun``, after the final state is stored), also when
  it was dropped as cancelled.

A lost event (the event store down) never fails the task or the request: its streams
end with ``error`` and their clients re-read state when they reconnect.
"""

from __future__ import annotations

import uuid

from rest_framework.renderers import JSONRenderer

from sessions_api.events.store import event_publish_quietly, owner_channel, store_config
from tasks_api.models import TaskRecord
from tasks_api.selectors import task_detail, task_detail_queued, task_one
from tasks_api.serializers import TASK

TASK_EVENT = "task"
_JSON = JSONRenderer()


def task_channel(*, record: TaskRecord) -> str | None:
    """The channel of a task's owner: its user, or its anonymous owner token."""
    return owner_channel(user_id=record.owner_user_id, token=record.owner_token or None)


def task_event_data(*, detail: dict) -> str:
    """The event data: the task object as the API writes it."""
    return _JSON.render(TASK.render(detail)).decode("utf-8")


def _publish(*, record: TaskRecord, detail: dict) -> None:
    event_publish_quietly(
        channel=task_channel(record=record), event=TASK_EVENT, data=task_event_data(detail=detail)
    )


def task_event_queued(*, record: TaskRecord) -> None:
    """The task as ``task_enqueue`` has just recorded it (``PENDING``)."""
    if store_config() is not None:
        _publish(record=record, detail=task_detail_queued(record=record))


def task_event_publish(*, task_id: str | uuid.UUID) -> None:
    """The task as it is stored now (no-op for a task that no longer exists)."""
    if store_config() is None:
        return
    # A worker does this at each start, progress report and end: the one-record read.
    record = task_one(TaskRecord.objects.filter(pk=task_id))
    if record is not None:
        _publish(record=record, detail=task_detail(record=record))
