"""Every change to tasks goes through here: enqueue, publish, cancel, start, hand-over,
pruning.

Views, Celery tasks, the relay and signal receivers call these functions; none of them
writes a ``TaskRecord`` or a ``TaskOutbox`` row itself. How a task travels (the outbox,
the fast path, the relay, and why a task runs once) is told in ``tasks_api.relay``; in
short, ``task_enqueue`` writes the record and its unsent message in one transaction,
publishes it right after the commit when it is due at once, and leaves everything the
broker did not confirm to the relay (``outbox_relay_batch``).

The limits that need the database are checked in the same transaction as the insert,
with one owner's enqueues serialized (``_owner_enqueue_lock``), so parallel requests
cannot both pass the last free place: ``TASKS_MAX_ACTIVE_PER_OWNER`` and, for
``mail.send``, ``TASKS_MAIL_DAILY_RECIPIENTS``. The rates are the views' throttles.
``TASKS_OUTBOX_MAX`` bounds what waits unsent while the broker is away.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import partial
from typing import Any

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError

from sessions_api.engines import ApiSessionStore
from sessions_api.request_log import current_request_id
from sessions_api.selectors import session_engine_name, session_owner_token
from sessions_api.services import (
    session_owner_token_ensure,
    session_owner_token_retire,
    sessions_clear_expired,
)
from tasks_api import broker
from tasks_api.background import Batches
from tasks_api.conf import app_settings
from tasks_api.errors import (
    BrokerUnavailable,
    IdempotencyConflict,
    MailRecipientsExhausted,
    TaskFinished,
    TooManyActiveTasks,
    UnknownTask,
)
from tasks_api.events import task_event_publish, task_event_queued
from tasks_api.models import TaskMailRecipient, TaskOutbox, TaskRecord
from tasks_api.policy import (
    ACTIVE_TASK_RETRY_SECONDS,
    FAST_PATH_GRACE,
    FINAL_STATES,
    IDEMPOTENCY_WINDOW,
    MAIL_RECIPIENTS_WINDOW,
    RELAY_LEASE,
)
from tasks_api.registry import TaskType, task_type_get
from tasks_api.selectors import (
    Owner,
    UserLike,
    mail_recipients_pending,
    mail_recipients_reserved,
    mail_recipients_sent,
    outbox_backlog,
    outbox_due,
    task_refresh,
    tasks_active_count,
    tasks_runnable,
    tasks_startable,
)

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
    run_after: datetime | None = None,
    idempotency_key: str | None = None,
    body: Any = None,
) -> tuple[TaskRecord, bool]:
    """Record a task for its owner and queue its message; return (record, created).

    ``countdown`` (seconds) or ``run_after`` (an aware time) schedule it: its message
    waits in the outbox until then. A task due at once is published right after the
    commit; should the broker not take it, the relay publishes it later, and the caller
    still gets the task (``PENDING``). Only when more than ``TASKS_OUTBOX_MAX`` due
    messages wait unsent is the answer ``broker_unavailable``, and nothing is recorded.

    Checks in order: the type exists (``unknown_task``), the caller may run it
    (``not_authenticated``/``permission_denied``), its arguments (``invalid``, fields
    under ``args.``), then the ``Idempotency-Key``: the same owner sending the same key
    with the same ``body`` within 24 h gets the first task back (``created`` False), a
    different body is ``idempotency_conflict``. Then the limits (``throttled``): the
    owner's unfinished tasks, and what the type's ``on_enqueue`` checks.
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

    now = timezone.now()
    if countdown:
        run_after = now + timedelta(seconds=countdown)
    # Due at once: published right after the commit, unless this process saw the broker
    # fail a moment ago (then the relay does it, and no publish is tried for nothing),
    # or its fast path is this far behind (a slow broker: that queue is in memory, and
    # the relay is as quick from here).
    publish_now = (
        (run_after is None or run_after <= now)
        and not broker.publishing_paused()
        and _fast_path.unfinished < FAST_PATH_MAX_BEHIND
    )
    record = TaskRecord(
        name=name,
        args=dict(serializer.validated_data),
        run_after=run_after,
        owner_user_id=owner.user_id,
        owner_token="" if owner.user_id is not None else owner.token or "",
        idempotency_key=idempotency_key or "",
        request_hash=body_hash,
        request_id=current_request_id() or "",
    )
    record.celery_result_id = str(record.pk)
    try:
        with transaction.atomic():
            _owner_enqueue_lock(owner=owner)
            _active_tasks_check(owner=owner)
            _outbox_room_check()
            record.save(force_insert=True)
            if task_type.on_enqueue is not None:
                task_type.on_enqueue(record=record)
            # The message, in the same transaction: committed together or not at all. A
            # message this process publishes itself is left to the relay only should
            # that not have happened within FAST_PATH_GRACE (the process died).
            due_at = now + FAST_PATH_GRACE if publish_now else max(run_after or now, now)
            TaskOutbox.objects.create(task=record, due_at=due_at)
            # Runs at once when this is the outermost transaction (the API's case), or
            # when an outer one commits; never when it rolls back.
            transaction.on_commit(
                partial(_task_queued, record=record, publish_now=publish_now), robust=False
            )
    except IntegrityError:
        # The same key, sent twice at the same moment: the first insert won.
        if idempotency_key:
            first = _idempotent_replay(owner=owner, key=idempotency_key, body_hash=body_hash)
            if first is not None:
                return first, False
        raise
    return record, True


# The namespace of the PostgreSQL advisory locks taken here ("task" in ASCII), so that
# they cannot collide with another application's locks on the same database.
_LOCK_NAMESPACE = 0x7461736B


def _owner_enqueue_lock(*, owner: Owner) -> None:
    """Serialize one owner's enqueues until the transaction ends.

    On PostgreSQL a transaction-level advisory lock on the owner (two owners that hash
    alike merely wait for each other). SQLite needs none: the project's transactions
    are IMMEDIATE, so a transaction holds the database's write lock from its start and
    every enqueue is serialized already. On another database the count and the insert
    are not serialized, and parallel requests of one owner may pass a limit by as many
    as run at the same moment.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(owner.ident.encode()).digest()
    key = int.from_bytes(digest[:4], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, key])


def _active_tasks_check(*, owner: Owner) -> None:
    limit = app_settings.TASKS_MAX_ACTIVE_PER_OWNER
    if tasks_active_count(owner=owner, limit=limit) >= limit:
        raise TooManyActiveTasks(
            wait=ACTIVE_TASK_RETRY_SECONDS,
            detail=f"You have {limit} unfinished tasks, the most one owner may have; wait "
            "for one to finish, or cancel one.",
        )


def _outbox_room_check() -> None:
    limit = app_settings.TASKS_OUTBOX_MAX
    waiting = outbox_backlog(limit=limit + 1)
    if waiting > limit:
        raise BrokerUnavailable(
            f"More than {limit} tasks wait for the message broker, which cannot take "
            "them at the moment; nothing was queued. Try again shortly."
        )


def _task_queued(*, record: TaskRecord, publish_now: bool) -> None:
    """After the commit: announce the task and, when it is due, publish it.

    On the process's fast-path thread (``tasks_api.background``), so that the answer
    does not wait for the broker; here and now only while a transaction of the caller's
    is still open on this connection (a test's), whose rows another thread's connection
    could not see.
    """
    if connection.in_atomic_block:
        _tasks_queued([(record, publish_now)])
    else:
        _fast_path.submit((record, publish_now))


def _tasks_queued(items: list[tuple[TaskRecord, bool]]) -> None:
    """The fast path's batch: the "queued" events, then the due messages, confirmed."""
    # Announced before the messages leave, so no worker's event can come before them.
    for record, _ in items:
        task_event_queued(record=record)
    messages = [(record.pk, record.name, record.args) for record, due in items if due]
    if not messages:
        return
    if broker.publishing_paused():
        # A publish failed in this process a moment ago: the relay's, at once.
        _outbox_due_again(task_ids=[pk for pk, _, _ in messages], due_at=timezone.now())
        return
    _outbox_publish(messages=messages, retry_at=None)


def fast_path_flush(*, timeout: float) -> bool:
    """Wait until this process's fast path has done what it was handed (its events sent,
    its messages published or left to the relay); False when ``timeout`` ran out. For
    tests that look at the outbox right after a request."""
    return _fast_path.flush(timeout)


def fast_path_stop(*, timeout: float) -> bool:
    """End this process's fast-path thread once it has done what it was handed, its
    database connections closed (a later enqueue starts it again); False when
    ``timeout`` ran out. For a test run, before it drops its databases."""
    return _fast_path.stop(timeout)


# Messages handed to the fast path and not yet done beyond which an enqueue leaves its
# message to the relay (see task_enqueue).
FAST_PATH_MAX_BEHIND = 1000

# Up to 100 messages a batch: what arrives while one batch is published waits for the
# next, and a batch's one delete stays small. At exit, as long as a publish may take.
_fast_path: Batches[tuple[TaskRecord, bool]] = Batches(
    name="tasks-fast-path",
    handle=_tasks_queued,
    size=100,
    exit_wait=lambda: app_settings.TASKS_PUBLISH_TIMEOUT + 1.0,
)


@dataclass(frozen=True)
class RelayBatch:
    """What one ``outbox_relay_batch`` did: messages published, and the broker's error
    when it stopped the batch (None: all went)."""

    claimed: int
    published: int
    error: str | None = None


def _outbox_publish(
    *, messages: list[tuple[Any, str, dict[str, Any]]], retry_at: datetime | None
) -> RelayBatch:
    """Publish ``messages`` (id, name, kwargs) in order, confirmed; mark those sent.

    At the first broker failure the rest stay unsent: due again at ``retry_at`` (None:
    at once, for the relay); the row that failed counts the attempt and keeps the error.
    """
    sent: list[Any] = []
    error: str | None = None
    for task_id, name, kwargs in messages:
        try:
            broker.publish(name=name, task_id=str(task_id), kwargs=kwargs)
        except broker.BrokerError as exc:
            error = str(exc)
            break
        sent.append(task_id)
    # Sent means deleted. A process killed before this line leaves rows whose message
    # went out: the relay publishes them again, and the worker runs the task once.
    if sent:
        TaskOutbox.objects.filter(pk__in=sent).delete()
    if error is not None:
        failed, *untried = [task_id for task_id, _, _ in messages[len(sent) :]]
        due_at = retry_at or timezone.now()
        TaskOutbox.objects.filter(pk=failed).update(
            due_at=due_at, attempts=F("attempts") + 1, last_error=error[:500]
        )
        if untried:
            _outbox_due_again(task_ids=untried, due_at=due_at)
    return RelayBatch(claimed=len(messages), published=len(sent), error=error)


def _outbox_due_again(*, task_ids: list[Any], due_at: datetime) -> None:
    """Messages not tried at all: due again at ``due_at``, with no attempt counted."""
    TaskOutbox.objects.filter(pk__in=task_ids).update(due_at=due_at)


def outbox_relay_batch(*, size: int, retry_after: timedelta = timedelta(0)) -> RelayBatch:
    """For the relay: publish up to ``size`` due messages, oldest first.

    The rows are claimed in a short transaction (``FOR UPDATE SKIP LOCKED`` where the
    database has it; SQLite's write lock serializes the claim) by moving their
    ``due_at`` past ``RELAY_LEASE``, so two relays never take the same rows, and one
    killed mid-batch leaves its rows due again once the lease ends. Published rows are
    deleted; at a broker failure the rest are due again after ``retry_after``. A
    cancelled task's row is dropped unpublished.
    """
    with transaction.atomic():
        due = outbox_due().select_for_update(skip_locked=True)
        claimed = list(due.order_by("due_at").values_list("pk", flat=True)[:size])
        if not claimed:
            return RelayBatch(claimed=0, published=0)
        TaskOutbox.objects.filter(pk__in=claimed).update(due_at=timezone.now() + RELAY_LEASE)
    rows = TaskRecord.objects.filter(pk__in=claimed).values_list(
        "pk", "name", "args", "cancel_requested_at"
    )
    found: dict[Any, tuple[Any, str, dict[str, Any]]] = {}
    cancelled = []
    for pk, name, args, cancel_requested_at in rows:
        if cancel_requested_at is None:
            found[pk] = (pk, name, args)
        else:
            cancelled.append(pk)
    if cancelled:
        TaskOutbox.objects.filter(pk__in=cancelled).delete()
    messages = [found[pk] for pk in claimed if pk in found]
    batch = _outbox_publish(messages=messages, retry_at=timezone.now() + retry_after)
    return RelayBatch(claimed=len(claimed), published=batch.published, error=batch.error)


def task_cancel(*, record: TaskRecord) -> TaskRecord:
    """Ask a task to stop; ``task_finished`` when it already ended.

    Not yet published (scheduled, or waiting for the broker): its outbox row goes in the
    same transaction, so it is never published, and it shows ``REVOKED`` at once.
    Queued: it never runs (the worker's start check sees the flag) and shows ``REVOKED``
    at once. Running: types that check the flag (``demo.sleep`` each half second,
    ``mail.send`` between messages) end ``REVOKED``; others run to their end.
    """
    if record.status in FINAL_STATES:  # type: ignore[attr-defined]
        raise TaskFinished(f"Task {record.pk} has already finished ({record.status}).")  # type: ignore[attr-defined]
    with transaction.atomic():
        TaskRecord.objects.filter(pk=record.pk, cancel_requested_at__isnull=True).update(
            cancel_requested_at=timezone.now()
        )
        unsent, _ = TaskOutbox.objects.filter(pk=record.pk).delete()
    if not unsent:  # a worker may hold the message: spare it the start check
        broker.revoke(task_id=str(record.pk))
    task_event_publish(task_id=record.pk)
    return task_refresh(record=record)


class StartClaim(Enum):
    """What ``task_start`` tells the worker: run the task, drop it as cancelled (it ends
    ``REVOKED``), or drop it as a second copy of a task that has run or is running (its
    state is left alone)."""

    RUN = "run"
    REFUSED = "refused"
    DUPLICATE = "duplicate"


def task_start(*, task_id: str, redelivered: bool) -> StartClaim:
    """For the worker, before a task runs: claim it.

    A task's message may reach the broker twice (the outbox publishes at least once),
    so only the first delivery of a never-started task claims it, by one conditional
    UPDATE of ``started_at``. A cancel and a start that race are ordered by the
    database: either the cancel came first (no claim, the task never runs, and it reads
    ``REVOKED``), or the start did (the task is running, and the cancel is a request).
    A message the broker delivers again (``redelivered``: its worker died, or lost its
    connection, before acknowledging) is claimed again while the task has not finished;
    ``started_at`` keeps the first start. Any other delivery of a started task, or one
    of a finished task, is a ``DUPLICATE``. A task whose owner's account is inactive is
    ``REFUSED`` like a cancelled one.
    """
    startable = tasks_startable().filter(pk=task_id)
    if startable.filter(started_at__isnull=True).update(started_at=timezone.now()):
        return StartClaim.RUN
    # Started before: a redelivery runs again; the same UPDATE orders it with a cancel.
    if redelivered and startable.update(started_at=F("started_at")):
        return StartClaim.RUN
    if tasks_runnable().filter(pk=task_id, started_at__isnull=False).exists():
        return StartClaim.DUPLICATE
    return StartClaim.REFUSED


def tasks_adopt_anonymous(*, user: Any, session: ApiSessionStore | None) -> int:
    """On login: the anonymous session's tasks become the user's; return how many.

    The owner token then leaves the session and is retired: a copy of the pre-login
    cookie owns nothing more, and what it enqueues later no login adopts.
    """
    if session is None:
        return 0
    token = session_owner_token(session=session)
    anonymous = TaskRecord.objects.filter(owner_user__isnull=True, owner_token=token or "")
    with transaction.atomic():
        session_owner_token_retire(session=session)
        if not token:
            return 0
        # An Idempotency-Key the user already holds stays with the user's own task.
        taken = TaskRecord.objects.filter(owner_user=user).exclude(idempotency_key="")
        anonymous.filter(idempotency_key__in=taken.values("idempotency_key")).update(
            idempotency_key=""
        )
        return anonymous.update(owner_user=user, owner_token="")


def tasks_prune(*, days: int | None = None) -> int:
    """Delete task records older than ``TASKS_RETENTION_DAYS`` and their results."""
    cutoff = timezone.now() - timedelta(days=days or app_settings.TASKS_RETENTION_DAYS)
    # Counted from when a task was due; one still waiting to be published stays.
    old = TaskRecord.objects.annotate(due=Coalesce("run_after", "created_at")).filter(
        due__lt=cutoff, outbox__isnull=True
    )
    with transaction.atomic():
        TaskResult.objects.filter(task_id__in=old.values("celery_result_id")).delete()
        deleted, _ = old.delete()
    return deleted


def mail_recipients_distinct(recipients: list[str]) -> list[str]:
    """The recipients, each address once (case-insensitively; the first spelling)."""
    seen: set[str] = set()
    distinct = []
    for address in recipients:
        if address.casefold() not in seen:
            seen.add(address.casefold())
            distinct.append(address)
    return distinct


def _mail_recipients_record(*, task_id: Any, recipients: list[str]) -> None:
    # Rows that exist already (this task's own, from a run or its enqueue) stay as they are.
    TaskMailRecipient.objects.bulk_create(
        [TaskMailRecipient(task_id=task_id, address=address) for address in recipients],
        ignore_conflicts=True,
    )


def mail_recipients_reserve(*, record: TaskRecord) -> None:
    """``mail.send``'s enqueue hook: take the task's recipients from the owner's budget.

    At most ``TASKS_MAIL_DAILY_RECIPIENTS`` recipients in any 24 h, counted from the
    recipient rows of the owner's tasks (queued, running or done; a task cancelled
    before it started gave its recipients back). The rows are written in the enqueue's
    transaction, under the owner's lock, so parallel requests cannot both take the
    last of the budget. Over it: ``throttled``, with ``Retry-After`` when enough of the
    budget frees for this task (a day, for a task larger than the whole budget).
    """
    recipients = mail_recipients_distinct(record.args["to"])
    limit = app_settings.TASKS_MAIL_DAILY_RECIPIENTS
    now = timezone.now()
    reserved = mail_recipients_reserved(
        owner_user_id=record.owner_user_id,
        owner_token=record.owner_token,
        since=now - MAIL_RECIPIENTS_WINDOW,
    )
    used = sum(count for _, count in reserved)
    if used + len(recipients) > limit:
        wait = MAIL_RECIPIENTS_WINDOW
        left = used
        for created_at, count in reserved:  # oldest first: the first to leave the window
            left -= count
            if left + len(recipients) <= limit:
                wait = created_at + MAIL_RECIPIENTS_WINDOW - now
                break
        raise MailRecipientsExhausted(
            wait=max(1, math.ceil(wait.total_seconds())),
            detail=f"mail.send may reach {limit} recipients in 24 hours; {used} are taken "
            f"and this task has {len(recipients)}.",
        )
    _mail_recipients_record(task_id=record.pk, recipients=recipients)


def mail_send_each(
    *,
    task_id: str,
    recipients: list[str],
    subject: str,
    body: str,
    before_each: Callable[[], None] | None = None,
) -> int:
    """Send one message per recipient (case-insensitively distinct); return how many
    of the task's messages went out, over all its runs.

    Separate messages, so no recipient sees another's address. ``before_each`` is
    called before every message (the task's cancel check). Each recipient is claimed
    in the database before its message is sent (one conditional UPDATE) and marked
    sent after: a run that follows a killed one, or runs beside a duplicate delivery,
    skips every claimed recipient, so none gets the message twice. A run killed
    between claim and send loses that one message (at most once, never twice).
    """
    # A task enqueued before its rows were written at enqueue time gets them here.
    _mail_recipients_record(task_id=task_id, recipients=mail_recipients_distinct(recipients))
    with mail.get_connection() as mailer:
        for recipient in mail_recipients_pending(task_id=task_id):
            if before_each is not None:
                before_each()
            claimed = TaskMailRecipient.objects.filter(
                pk=recipient.pk, claimed_at__isnull=True
            ).update(claimed_at=timezone.now())
            if not claimed:
                continue  # another run of this task took it
            message = mail.EmailMessage(
                subject=subject,
                body=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[recipient.address],
                connection=mailer,
            )
            if message.send():
                TaskMailRecipient.objects.filter(pk=recipient.pk).update(sent_at=timezone.now())
    return mail_recipients_sent(task_id=task_id)


def expired_sessions_clear() -> dict[str, Any]:
    """Expired sessions out of the store, and their logins out of the registry."""
    sessions_clear_expired()
    return {"engine": session_engine_name(), "cleared": True}


__all__ = [
    "IDEMPOTENCY_WINDOW",
    "RelayBatch",
    "StartClaim",
    "expired_sessions_clear",
    "mail_recipients_distinct",
    "mail_recipients_reserve",
    "mail_send_each",
    "outbox_relay_batch",
    "request_hash",
    "task_cancel",
    "task_enqueue",
    "task_owner_ensure",
    "task_start",
    "tasks_adopt_anonymous",
    "tasks_prune",
]
