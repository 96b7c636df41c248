"""The task object as answered equals what its documented serializer renders.

The task views write ``selectors.task_detail()`` through ``serializers.TASK``, which is
compiled from ``TaskSerializer`` (what the OpenAPI schema shows); DRF renders it the same,
field for field, in every status.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework.renderers import JSONRenderer

from sessions_api.rest import json_response
from tasks_api import selectors
from tasks_api.models import TaskRecord
from tasks_api.serializers import TASK, TaskSerializer

pytestmark = pytest.mark.django_db


def _both(detail: dict) -> tuple[dict, dict]:
    fast = json.loads(json_response(TASK.render(detail)).content)
    documented = json.loads(JSONRenderer().render(TaskSerializer(detail).data))
    return fast, documented


def _record(**fields) -> TaskRecord:
    record = TaskRecord(name="demo.add", args={"a": 1, "b": 2.5}, owner_token="t" * 32, **fields)
    record.celery_result_id = str(record.pk)
    record.save()
    return record


def _result(record: TaskRecord, status: str, result: object) -> None:
    TaskResult.objects.create(
        task_id=str(record.pk),
        status=status,
        result=json.dumps(result),
        date_done=timezone.now(),
        content_type="application/json",
        content_encoding="utf-8",
    )


STATES = {
    "PENDING": ({}, None),
    "queued": ({}, "queued"),
    "STARTED": ({"started_at": True}, ("STARTED", None)),
    "PROGRESS": (
        {"started_at": True},
        ("PROGRESS", {"current": 2, "total": 5, "percent": 40.0, "message": "step 2 of 5"}),
    ),
    "SUCCESS": ({"started_at": True}, ("SUCCESS", {"sum": [3.5, "é"], "none": None})),
    "FAILURE": (
        {"started_at": True},
        ("FAILURE", {"exc_type": "TaskFailed", "exc_message": ["boom"], "exc_module": "x"}),
    ),
    "REVOKED": ({"cancel_requested_at": True}, None),
}


@pytest.mark.parametrize("state", list(STATES))
def test_the_task_object_is_what_its_documented_serializer_renders(state):
    fields, outcome = STATES[state]
    now = timezone.now().replace(microsecond=123456) - timedelta(seconds=3)
    record = _record(**{name: now for name in fields})
    if outcome == "queued":
        detail = selectors.task_detail_queued(record=record)
    else:
        if outcome is not None:
            _result(record, *outcome)
        detail = selectors.task_detail(record=selectors.task_refresh(record=record))
    fast, documented = _both(detail)
    assert fast == documented
    assert fast["status"] == ("PENDING" if state == "queued" else state)
    assert fast["id"] == str(record.pk)
