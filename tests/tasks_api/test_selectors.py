"""The second copies of the status rules, kept for speed, agree with the first: the
enqueue path's counts written out in SQL with ``with_status()`` (unfinished tasks) and
``outbox_due()`` (the backlog), and the one-record read's status in Python
(``task_status``) with ``with_status()``'s SQL ``CASE``.

Every kind of record is built (each status, each owner kind, scheduled, old, lost),
then each count is compared with the same set computed through the ORM.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.models import TaskOutbox, TaskRecord
from tasks_api.policy import ACTIVE_TASK_WINDOW, FINAL_STATES, STATES
from tasks_api.selectors import (
    Owner,
    outbox_backlog,
    outbox_due,
    task_one,
    tasks_active_count,
    with_status,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db

_REPORTED = (None, *STATES)  # what the worker last reported (None: nothing yet)
_CANCEL = ("no", "before start", "while running")
_OUTBOX = ("sent", "scheduled", "due")
_AGE = ("new", "older than the window")


def _owners() -> list[Owner]:
    user = make_user()
    return [Owner(user_id=user.pk), Owner(token="a" * 32), Owner(token="b" * 32)]


def _records(owner: Owner) -> None:
    """One record of ``owner`` for every combination of state that counting looks at."""
    now = timezone.now()
    for reported, cancel, outbox, age in itertools.product(_REPORTED, _CANCEL, _OUTBOX, _AGE):
        created = now if age == "new" else now - ACTIVE_TASK_WINDOW - timedelta(hours=1)
        record = TaskRecord(
            name="demo.add",
            owner_user_id=owner.user_id,
            owner_token=owner.token or "",
            created_at=created,
            started_at=None if reported in (None, "PENDING") else created,
        )
        if cancel == "before start":
            record.started_at = None
            record.cancel_requested_at = now
        elif cancel == "while running":
            record.started_at = created
            record.cancel_requested_at = now
        record.celery_result_id = str(record.pk)
        record.save(force_insert=True)
        if reported is not None:
            TaskResult.objects.create(task_id=str(record.pk), status=reported)
        if outbox != "sent":
            due = now + timedelta(hours=1) if outbox == "scheduled" else now - timedelta(seconds=1)
            TaskOutbox.objects.create(task=record, due_at=due)


def _unfinished_by_the_orm(owner: Owner) -> int:
    since = timezone.now() - ACTIVE_TASK_WINDOW
    records = with_status(TaskRecord.objects.filter(owner.filter))
    counted = [
        record
        for record in records
        if record.status not in FINAL_STATES
        and (record.created_at >= since or TaskOutbox.objects.filter(pk=record.pk).exists())
    ]
    return len(counted)


def test_the_unfinished_count_agrees_with_with_status_for_every_kind_of_record():
    owners = _owners()
    for owner in owners:
        _records(owner)
    for owner in owners:
        expected = _unfinished_by_the_orm(owner)
        # Not a trivial agreement: some records of every owner count and some do not.
        total = TaskRecord.objects.filter(owner.filter).count()
        assert 0 < expected < total
        assert tasks_active_count(owner=owner, limit=10_000) == expected
        # The limit stops the count (the database reads no further).
        assert tasks_active_count(owner=owner, limit=3) == 3
    # An owner with no records, and one whose token is a user's: nothing.
    assert tasks_active_count(owner=Owner(token="c" * 32), limit=100) == 0
    assert tasks_active_count(owner=Owner(user_id=owners[0].user_id + 1000), limit=100) == 0


def test_the_backlog_counts_what_outbox_due_holds():
    owner = _owners()[0]
    _records(owner)
    expected = outbox_due().count()
    assert 0 < expected < TaskOutbox.objects.count()  # scheduled rows are not due
    assert outbox_backlog(limit=10_000) == expected
    assert outbox_backlog(limit=2) == 2


def test_a_single_read_has_the_status_with_status_gives_every_kind_of_record(
    django_assert_num_queries,
):
    owner = _owners()[1]
    _records(owner)
    annotated = {record.pk: record.status for record in with_status(TaskRecord.objects.all())}
    assert set(annotated.values()) == {*STATES}  # every status is among them
    for pk, status in annotated.items():
        with django_assert_num_queries(1):  # the result row comes with the record
            record = task_one(TaskRecord.objects.filter(pk=pk))
        assert record is not None
        assert record.status == status, (pk, record.cancel_requested_at, record.started_at)
    assert task_one(TaskRecord.objects.filter(pk=uuid.uuid4())) is None
