"""Reads of tasks, shaped for the API (no writes here).

A task's status comes from two places: django-celery-results' ``TaskResult`` (what the
worker reported) and our ``TaskRecord`` (that it exists, whose it is, whether it was
cancelled before it started). ``with_status`` combines them in SQL, so that lists can
be filtered by status; a read of one task (``task_one``) applies the same rule in
Python (``task_status``), and a test holds the two together:

* cancelled before a worker claimed it: ``REVOKED`` (it never runs, see
  ``RegisteredTask.before_start``);
* otherwise what the worker last reported, or ``PENDING`` while it has reported nothing.
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Field,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework.exceptions import NotFound

from sessions_api.engines import ApiSessionStore
from sessions_api.selectors import session_owner_token
from tasks_api.models import TaskMailRecipient, TaskOutbox, TaskRecord
from tasks_api.policy import ACTIVE_TASK_WINDOW, FINAL_STATES, PROGRESS
from tasks_api.registry import args_json_schema, task_types

# The caller: the project's user model (which may be a custom one, with or without
# is_staff) or AnonymousUser; what the services need of it is checked where they use it.
UserLike = Any


@dataclass(frozen=True)
class Owner:
    """Who owns tasks: a user, or an anonymous session's owner token."""

    user_id: int | None = None
    token: str | None = None

    @property
    def filter(self) -> Q:
        if self.user_id is not None:
            return Q(owner_user_id=self.user_id)
        return Q(owner_user__isnull=True, owner_token=self.token)

    @property
    def ident(self) -> str:
        """A stable name for rate limiting."""
        return f"user:{self.user_id}" if self.user_id is not None else f"session:{self.token}"


def task_owner(*, user: UserLike, session: ApiSessionStore) -> Owner | None:
    """The caller as a task owner, or None for an anonymous caller who has no tasks yet."""
    if user.is_authenticated:
        return Owner(user_id=user.pk)
    token = session_owner_token(session=session)
    return Owner(token=token) if token else None


def with_status(queryset: QuerySet[TaskRecord]) -> QuerySet[TaskRecord]:
    """Annotate ``status`` (see the module docstring) and join the Celery result."""
    return queryset.select_related("celery_result").annotate(
        status=Case(
            When(
                cancel_requested_at__isnull=False,
                started_at__isnull=True,
                then=Value("REVOKED"),
            ),
            When(celery_result__status__isnull=False, then=F("celery_result__status")),
            default=Value("PENDING"),
            output_field=CharField(),
        )
    )


def task_status(*, record: TaskRecord) -> str:
    """``with_status()``'s rule for one record read with its result row (``task_one``).

    A second copy of the rule, kept for single reads: the SQL ``CASE`` costs more
    Python to build than the whole read of one task (~0.45 of ~1 ms), which polls,
    events and cancels all pay. ``tests/tasks_api/test_selectors.py`` holds the two to
    the same answer for every kind of record.
    """
    if record.cancel_requested_at is not None and record.started_at is None:
        return "REVOKED"
    result = record.celery_result if record.celery_result_id else None
    if result is not None and result.status is not None:
        return str(result.status)
    return "PENDING"


def task_one(queryset: QuerySet[TaskRecord]) -> TaskRecord | None:
    """The one record of ``queryset`` (filtered to a primary key) with its result row
    and ``status`` as ``with_status()`` would annotate it, or None."""
    record = next(iter(queryset.select_related("celery_result").order_by()[:1]), None)
    if record is not None:
        record.status = task_status(record=record)  # type: ignore[attr-defined]
    return record


def tasks_list(
    *, owner: Owner | None, status: str | None = None, name: str | None = None
) -> QuerySet[TaskRecord]:
    """The owner's tasks, newest first, optionally filtered by status and name."""
    if owner is None:
        return TaskRecord.objects.none()
    queryset = with_status(TaskRecord.objects.filter(owner.filter))
    if status:
        queryset = queryset.filter(Q(status=status))  # the annotation of with_status()
    if name:
        queryset = queryset.filter(name=name)
    return queryset.order_by("-created_at", "-id")


def task_get(*, owner: Owner | None, task_id: str | uuid.UUID) -> TaskRecord:
    """One of the owner's tasks; ``404`` for a malformed, unknown or someone else's id."""
    try:
        pk = task_id if isinstance(task_id, uuid.UUID) else uuid.UUID(str(task_id))
    except ValueError:
        raise NotFound("There is no task with this id.") from None
    if owner is None:
        raise NotFound("There is no task with this id.")
    record = task_one(TaskRecord.objects.filter(owner.filter, pk=pk))
    if record is None:
        # Deliberately the same answer as a malformed id: another owner's task exists
        # for nobody else.
        raise NotFound("There is no task with this id.")
    return record


def tasks_active_count(*, owner: Owner, limit: int) -> int:
    """The owner's unfinished tasks enqueued within ``ACTIVE_TASK_WINDOW`` or still
    waiting to be published (scheduled ones), counted up to ``limit`` (the database
    stops there).

    Unfinished in ``with_status()``'s terms: not cancelled before it started
    (``REVOKED``), and no final state reported. Every enqueue runs this under the owner's
    lock, so it is one statement written out (``_active_count_sql``): built by the ORM,
    the same query costs ~0.8 ms of Python to assemble against ~0.06 ms for the
    database to answer. ``tests/tasks_api/test_selectors.py`` holds it to
    ``with_status()`` over every kind of record.
    """
    by_user = owner.user_id is not None
    since = connection.ops.adapt_datetimefield_value(timezone.now() - ACTIVE_TASK_WINDOW)
    params = [owner.user_id if by_user else owner.token, since, *_FINALS, limit]
    return _count(_active_count_sql(connection.vendor, by_user=by_user), params)


_FINALS = sorted(FINAL_STATES)


@functools.cache
def _active_count_sql(vendor: str, *, by_user: bool) -> str:
    """The statement of ``tasks_active_count``, once per database vendor and owner kind.

    Table and column names come from the models' metadata, quoted for the database, so
    a renamed table or column follows.
    """
    names = _names()
    owner = "r.{owner_user} = %s" if by_user else "r.{owner_user} IS NULL AND r.{owner_token} = %s"
    # Only quoted names from the models are formatted in; the values are parameters.
    sql = """
        SELECT COUNT(*) FROM (
            SELECT 1 FROM {record} r
            LEFT JOIN {outbox} o ON o.{outbox_task} = r.{id}
            LEFT JOIN {result} t ON t.{result_task} = r.{celery_result}
            WHERE {owner}
              AND (r.{created_at} >= %s OR o.{outbox_task} IS NOT NULL)
              AND NOT (r.{cancel_requested_at} IS NOT NULL AND r.{started_at} IS NULL)
              AND (t.{result_status} IS NULL OR t.{result_status} NOT IN ({finals}))
            LIMIT %s
        ) unfinished
    """
    finals = ", ".join(["%s"] * len(_FINALS))
    return sql.format(owner=owner.format(**names), finals=finals, **names)


def _names() -> dict[str, str]:
    """The quoted names the written-out statements use: the tables, the record's
    columns by field name, and the outbox's and result's columns they join or read."""
    quote = connection.ops.quote_name

    def column(model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, Field) and field.column  # a concrete field
        return quote(field.column)

    return {
        **{field.name: quote(field.column) for field in TaskRecord._meta.concrete_fields},
        "record": quote(TaskRecord._meta.db_table),
        "outbox": quote(TaskOutbox._meta.db_table),
        "outbox_task": column(TaskOutbox, "task"),
        "outbox_due_at": column(TaskOutbox, "due_at"),
        "result": quote(TaskResult._meta.db_table),
        "result_task": column(TaskResult, "task_id"),
        "result_status": column(TaskResult, "status"),
    }


def _count(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (count,) = cursor.fetchone()
    return int(count)


def _owner_active() -> Q:
    """Records of an owner who may still run tasks: a session, or an active user.

    A user model without an ``is_active`` field has no inactive users (Django's
    ``AbstractBaseUser`` answers ``is_active = True`` for every one of them).
    """
    try:
        get_user_model()._meta.get_field("is_active")
    except FieldDoesNotExist:
        return Q()
    return Q(owner_user__isnull=True) | Q(owner_user__is_active=True)


def tasks_runnable() -> QuerySet[TaskRecord]:
    """The records a worker may run: not cancelled, and their owner is active."""
    return TaskRecord.objects.filter(_owner_active(), cancel_requested_at__isnull=True)


def tasks_startable() -> QuerySet[TaskRecord]:
    """The records a worker may start: runnable, and not finished already (a second
    copy of a finished task's message must not run it again)."""
    # Correlated on the record's own result row (an index lookup), never a scan of
    # every finished result.
    finished = TaskResult.objects.filter(
        task_id=OuterRef("celery_result_id"), status__in=FINAL_STATES
    )
    return tasks_runnable().filter(~Exists(finished))


def outbox_due() -> QuerySet[TaskOutbox]:
    """The outbox's messages due now (an index range on ``due_at``)."""
    return TaskOutbox.objects.filter(due_at__lte=timezone.now())


def outbox_backlog(*, limit: int) -> int:
    """Messages due but not published (the broker away, or the relay behind), counted
    up to ``limit``: a bounded index range, cheap however long the backlog.

    Every enqueue asks, so it is written out as ``tasks_active_count`` is (the ORM
    spends ~0.3 ms building it for a ~0.02 ms read).
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return _count(_backlog_sql(connection.vendor), [now, limit])


@functools.cache
def _backlog_sql(vendor: str) -> str:
    # Only quoted names from the models are formatted in; the values are parameters.
    sql = "SELECT COUNT(*) FROM (SELECT 1 FROM {outbox} WHERE {outbox_due_at} <= %s LIMIT %s) d"
    return sql.format(**_names())


def outbox_has_due() -> bool:
    """Whether any message is due (the relay's cheap look before it claims a batch)."""
    return outbox_due().exists()


def task_cancel_requested(*, task_id: str) -> bool:
    """For the worker: stop? True when cancel was asked, the owner's account was
    deactivated, or the record is gone."""
    return not tasks_runnable().filter(pk=task_id).exists()


def mail_recipients_reserved(
    *, owner_user_id: int | None, owner_token: str, since: datetime
) -> list[tuple[datetime, int]]:
    """The owner's ``mail.send`` tasks enqueued since ``since``, oldest first, each as
    (enqueued at, recipients). A task cancelled before it started sent nothing and is
    left out."""
    rows = (
        TaskMailRecipient.objects.filter(
            task__owner_user_id=owner_user_id,
            task__owner_token=owner_token,
            task__created_at__gte=since,
        )
        .exclude(task__cancel_requested_at__isnull=False, task__started_at__isnull=True)
        .values("task_id", "task__created_at")
        .annotate(recipients=Count("id"))
        .order_by("task__created_at", "task_id")
    )
    return [(row["task__created_at"], row["recipients"]) for row in rows]


def mail_recipients_pending(*, task_id: str) -> list[TaskMailRecipient]:
    """A mail task's recipients that no run of it has taken on yet, in order."""
    return list(
        TaskMailRecipient.objects.filter(task__pk=task_id, claimed_at__isnull=True).order_by("id")
    )


def mail_recipients_sent(*, task_id: str) -> int:
    """How many of a mail task's messages went out, over all its runs."""
    return TaskMailRecipient.objects.filter(task__pk=task_id, sent_at__isnull=False).count()


def _decode(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _error(payload: Any) -> dict[str, str]:
    """Celery's JSON form of an exception, without the traceback."""
    if not isinstance(payload, dict):
        return {"type": "Error", "message": "" if payload is None else str(payload)}
    message = payload.get("exc_message", "")
    if isinstance(message, (list, tuple)):
        message = message[0] if len(message) == 1 else " ".join(str(part) for part in message)
    return {"type": str(payload.get("exc_type") or "Error"), "message": str(message)}


def _progress(payload: Any) -> dict[str, Any] | None:
    if not isinstance(payload, dict) or not {"current", "total"} <= payload.keys():
        return None
    return {
        "current": payload["current"],
        "total": payload["total"],
        "percent": payload.get("percent"),
        "message": payload.get("message"),
    }


def task_detail(*, record: TaskRecord) -> dict[str, Any]:
    """The task object (``TaskSerializer``) for a record from ``with_status``.

    The data of the task object; ``serializers.TASK`` (``TaskSerializer``, which the
    schema shows) writes it to the wire.
    """
    result_row = record.celery_result if record.celery_result_id else None
    return _task_object(record=record, status=record.status, result_row=result_row)  # type: ignore[attr-defined]


def task_detail_queued(*, record: TaskRecord) -> dict[str, Any]:
    """The task object of a record ``task_enqueue`` has just inserted and published.

    ``PENDING`` with no result, as it was queued: a worker may have taken it since, which
    the first poll shows. It spares the enqueue answer a re-read of the joined record.
    """
    return _task_object(record=record, status="PENDING", result_row=None)


def _task_object(
    *, record: TaskRecord, status: str, result_row: TaskResult | None
) -> dict[str, Any]:
    payload = _decode(result_row.result) if result_row is not None else None
    if status == "REVOKED" and record.started_at is None and record.cancel_requested_at:
        finished_at = record.cancel_requested_at
    elif status in FINAL_STATES and result_row is not None:
        finished_at = result_row.date_done
    else:
        finished_at = None
    return {
        "id": record.pk,
        "name": record.name,
        "status": status,
        "args": record.args,
        "progress": _progress(payload) if status == PROGRESS else None,
        "result": payload if status == "SUCCESS" else None,
        "error": _error(payload) if status == "FAILURE" else None,
        "run_after": record.run_after,
        "created_at": record.created_at,
        "started_at": record.started_at,
        "finished_at": finished_at,
        "url": reverse("task-detail", kwargs={"id": record.pk}),
    }


def task_refresh(*, record: TaskRecord) -> TaskRecord:
    """The record again, with its status (after a service changed it)."""
    refreshed = task_one(TaskRecord.objects.filter(pk=record.pk))
    if refreshed is None:
        raise TaskRecord.DoesNotExist(f"Task {record.pk} is gone.")
    return refreshed


def task_types_list() -> list[dict[str, Any]]:
    return [
        {
            "name": item.name,
            "description": item.description,
            "args": copy.deepcopy(args_json_schema(item.args)),
            "requires": item.requires,
        }
        for item in task_types()
    ]
