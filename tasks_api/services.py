"""Every change to tasks goes through here: enqueue, cancel, start, hand-over, pruning.

Views, Celery tasks and signal receivers call these functions; none of them writes a
``TaskRecord`` itself. The enqueue path keeps two promises of the contract:

* the record is committed before the message is published (``transaction.on_commit``),
  so ``GET`` of a fresh id is never a 404 and a worker never reads an uncommitted row;
* when the broker cannot take the message, the record is deleted again and the caller
  gets ``503 broker_unavailable`` within seconds: no task is left claiming to be queued.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError

from sessions_api.engines import ApiSessionStore
from sessions_api.request_log import current_request_id
from sessions_api.selectors import session_engine_name, session_owner_token
from sessions_api.services import session_owner_token_ensure, sessions_clear_expired
from tasks_api import broker
from tasks_api.conf import app_settings
from tasks_api.errors import BrokerUnavailable, IdempotencyConflict, TaskFinished, UnknownTask
from tasks_api.events import task_event_publish, task_event_queued
from tasks_api.models import TaskRecord
from tasks_api.policy import FINAL_STATES, IDEMPOTENCY_WINDOW
from tasks_api.registry import TaskType, task_type_get
from tasks_api.selectors import Owner, UserLike, task_refresh

logger = logging.getLogger(__name__)


def task_owner_ensure(*, user: UserLike, session: ApiSessionStore) -> Owner:
    """The caller as a task owner; an anonymous caller gets a session and owner token."""
    if user.is_authenticated:
        return Owner(user_id=user.pk)
    return Owner(token=session_owner_token_ensure(session=session))


def _check_allowed(*, task_type: TaskType, user: UserLike) -> None:
    if task_type.requires == "anyone":
        return
    if not user.is_authenticated:
        raise NotAuthenticated(f"Task type {task_type.name!r} needs a logged-in user.")
    if task_type.requires == "staff" and not user.is_staff:
        raise PermissionDenied(f"Only staff may run task type {task_type.name!r}.")


def request_hash(*, body: Any) -> str:
    """Fingerprint of a request body, independent of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _idempotent_replay(*, owner: Owner, key: str, body_hash: str) -> TaskRecord | None:
    """The task first sent with this key, or None when the key is new (or has lapsed)."""
    record = TaskRecord.objects.filter(owner.filter, idempotency_key=key).first()
    if record is None:
        return None
    if record.created_at < timezone.now() - IDEMPOTENCY_WINDOW:
        # Lapsed: free the key so a new task can take it (the unique constraint).
        TaskRecord.objects.filter(pk=record.pk).update(idempotency_key="")
        return None
    if record.request_hash != body_hash:
        raise IdempotencyConflict(
            f"The Idempotency-Key {key!r} was used with a different request body for task "
            f"{record.pk}; send a new key for a new request."
        )
    return record


def task_enqueue(
    *,
    user: UserLike,
    session: ApiSessionStore,
    name: str,
    args: dict[str, Any],
    countdown: int = 0,
    idempotency_key: str | None = None,
    body: Any = None,
) -> tuple[TaskRecord, bool]:
    """Record a task for its owner and publish it; return (record, created).

    Checks in order: the type exists (``unknown_task``), the caller may run it
    (``not_authenticated``/``permission_denied``), its arguments (``invalid``, fields
    under ``args.``), then the ``Idempotency-Key``: the same owner sending the same key
    with the same ``body`` within 24 h gets the first task back (``created`` False), a
    different body is ``idempotency_conflict``.
    """
    task_type = task_type_get(name)
    if task_type is None:
        raise UnknownTask(f"There is no task type {name!r}; GET /api/v1/tasks/types/ lists them.")
    _check_allowed(task_type=task_type, user=user)
    serializer = task_type.args(data=args)
    if not serializer.is_valid():
        raise ValidationError({"args": serializer.errors})
    owner = task_owner_ensure(user=user, session=session)
    body_hash = request_hash(body=body if body is not None else {"name": name, "args": args})
    if idempotency_key:
        first = _idempotent_replay(owner=owner, key=idempotency_key, body_hash=body_hash)
        if first is not None:
            return first, False

    record = TaskRecord(
        name=name,
        args=dict(serializer.validated_data),
        countdown=countdown,
        owner_user_id=owner.user_id,
        owner_token="" if owner.user_id is not None else owner.token or "",
        idempotency_key=idempotency_key or "",
        request_hash=body_hash,
        request_id=current_request_id() or "",
    )
    record.celery_result_id = str(record.pk)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
            # Runs at once when this is the outermost transaction (the API's case, so a
            # broker failure reaches the caller as 503), or when an outer one commits.
            transaction.on_commit(
                partial(_task_publish, record=record, task_type=task_type), robust=False
            )
    except IntegrityError:
        # The same key, sent twice at the same moment: the first insert won.
        if idempotency_key:
            first = _idempotent_replay(owner=owner, key=idempotency_key, body_hash=body_hash)
            if first is not None:
                return first, False
        raise
    return record, True


def _task_publish(*, record: TaskRecord, task_type: TaskType) -> None:
    # Announced before the message leaves, so no worker's event can come before it.
    task_event_queued(record=record)
    try:
        broker.publish(
            task=task_type.task,
            task_id=str(record.pk),
            kwargs=record.args,
            countdown=record.countdown,
        )
    except broker.BrokerError:
        # Nothing was queued, so nothing may claim to be: the record goes. Should the
        # message have reached the broker after all (a lost confirm), the worker finds
        # no record and does not run it.
        TaskRecord.objects.filter(pk=record.pk).delete()
        raise BrokerUnavailable() from None


def task_cancel(*, record: TaskRecord) -> TaskRecord:
    """Ask a task to stop; ``task_finished`` when it already ended.

    Queued: it never runs (the worker's start check sees the flag) and shows
    ``REVOKED`` at once. Running: types that check the flag (``demo.sleep`` each half
    second, ``mail.send`` between messages) end ``REVOKED``; others run to their end.
    """
    if record.status in FINAL_STATES:  # type: ignore[attr-defined]
        raise TaskFinished(f"Task {record.pk} has already finished ({record.status}).")  # type: ignore[attr-defined]
    TaskRecord.objects.filter(pk=record.pk, cancel_requested_at__isnull=True).update(
        cancel_requested_at=timezone.now()
    )
    broker.revoke(task_id=str(record.pk))
    task_event_publish(task_id=record.pk)
    return task_refresh(record=record)


def task_start(*, task_id: str) -> bool:
    """For the worker, before a task runs: claim it; False means do not run it.

    One conditional UPDATE, so a cancel and a start that race are ordered by the
    database: either the cancel came first (no claim, the task never runs, and it reads
    ``REVOKED``), or the start did (the task is running, and the cancel is a request).
    A redelivered task (its worker died) is claimed again; ``started_at`` keeps the
    first start.
    """
    claimed = TaskRecord.objects.filter(pk=task_id, cancel_requested_at__isnull=True).update(
        started_at=Coalesce(F("started_at"), Value(timezone.now()))
    )
    return claimed == 1


def tasks_adopt_anonymous(*, user: Any, session: ApiSessionStore | None) -> int:
    """On login: the anonymous session's tasks become the user's; return how many."""
    token = session_owner_token(session=session) if session is not None else None
    if not token:
        return 0
    anonymous = TaskRecord.objects.filter(owner_user__isnull=True, owner_token=token)
    with transaction.atomic():
        # An Idempotency-Key the user already holds stays with the user's own task.
        taken = TaskRecord.objects.filter(owner_user=user).exclude(idempotency_key="")
        anonymous.filter(idempotency_key__in=taken.values("idempotency_key")).update(
            idempotency_key=""
        )
        return anonymous.update(owner_user=user, owner_token="")


def tasks_prune(*, days: int | None = None) -> int:
    """Delete task records older than ``TASKS_RETENTION_DAYS`` and their results."""
    cutoff = timezone.now() - timedelta(days=days or app_settings.TASKS_RETENTION_DAYS)
    old = TaskRecord.objects.filter(created_at__lt=cutoff)
    with transaction.atomic():
        TaskResult.objects.filter(task_id__in=old.values("celery_result_id")).delete()
        deleted, _ = old.delete()
    return deleted


def mail_send_each(
    *,
    recipients: list[str],
    subject: str,
    body: str,
    before_each: Callable[[], None] | None = None,
) -> int:
    """Send one message per recipient (case-insensitively distinct); return how many went.

    Separate messages, so no recipient sees another's address. ``before_each`` is
    called before every message (the task's cancel check).
    """
    seen: set[str] = set()
    sent = 0
    with mail.get_connection() as connection:
        for address in recipients:
            if address.casefold() in seen:
                continue
            seen.add(address.casefold())
            if before_each is not None:
                before_each()
            message = mail.EmailMessage(
                subject=subject,
                body=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[address],
                connection=connection,
            )
            sent += message.send()
    return sent


def expired_sessions_clear() -> dict[str, Any]:
    """Expired sessions out of the store, and their logins out of the registry."""
    sessions_clear_expired()
    return {"engine": session_engine_name(), "cleared": True}


__all__ = [
    "IDEMPOTENCY_WINDOW",
    "expired_sessions_clear",
    "mail_send_each",
    "request_hash",
    "task_cancel",
    "task_enqueue",
    "task_owner_ensure",
    "task_start",
    "tasks_adopt_anonymous",
    "tasks_prune",
]
