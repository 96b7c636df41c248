"""Task records: who owns a submitted task, what was asked, and whether it was cancelled.

The task's state, progress and result are not kept here: Celery writes them to
django-celery-results' ``TaskResult`` (same id). The record exists from the moment of
submission, before any message is published, so a fresh id is never unknown and an
unknown id is a 404 rather than Celery's eternal ``PENDING``. Its message waits in the
outbox (``TaskOutbox``, written in the same transaction) until the broker has it; see
``tasks_api.relay``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_celery_results.models import TaskResult


class TaskRecord(models.Model):
    """One submitted task and its owner: a user, or an anonymous session's owner token."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, db_index=True)
    args = models.JSONField(default=dict, blank=True)
    # When the task may run (a countdown or run_after); null: at once.
    run_after = models.DateTimeField(null=True, blank=True, editable=False)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="task_records",
    )
    # sessions_api's owner token of an anonymous session (never the session key).
    owner_token = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_hash = models.CharField(max_length=64, blank=True, default="")
    # The X-Request-ID of the request that enqueued the task, to find its log lines.
    request_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # The Celery result row, joined on its task id (the text form of ``id``). No
    # database constraint: the row appears only once a worker reports on the task.
    celery_result = models.ForeignKey(
        TaskResult,
        to_field="task_id",
        db_column="celery_task_id",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set by the worker when it claims the task to run it (see services.task_start).
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancel_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner_user", "-created_at"], name="taskrecord_user_created"),
            models.Index(fields=["owner_token", "-created_at"], name="taskrecord_token_created"),
            models.Index(fields=["created_at"], name="taskrecord_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_user__isnull=False) | ~Q(owner_token=""),
                name="taskrecord_has_owner",
            ),
            # One task per (owner, Idempotency-Key); races end in an IntegrityError
            # that the enqueue service turns into "here is the first task".
            models.UniqueConstraint(
                fields=["owner_user", "idempotency_key"],
                condition=Q(owner_user__isnull=False) & ~Q(idempotency_key=""),
                name="taskrecord_user_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["owner_token", "idempotency_key"],
                condition=Q(owner_user__isnull=True) & ~Q(idempotency_key=""),
                name="taskrecord_token_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None


class TaskMailRecipient(models.Model):
    """One recipient of a ``mail.send`` task, and how far its message got.

    Written with the task (so the daily recipient budget counts queued tasks too) and
    read by the worker, which claims each row before it sends and marks it after:
    a run that comes after a killed one (late ack redelivers the message) skips every
    claimed row, so no recipient gets the message twice. A kill between claim and send
    loses that one message instead: at most once, never twice.
    """

    task = models.ForeignKey(TaskRecord, on_delete=models.CASCADE, related_name="mail_recipients")
    # An e-mail address is at most 320 characters (RFC 3696; Django's validator too).
    address = models.CharField(max_length=320)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "address"], name="taskmailrecipient_once"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.task_id})"


class TaskOutbox(models.Model):
    """A task's message that the broker has not confirmed yet (see ``tasks_api.relay``).

    Written in the transaction that records the task, and deleted once the broker has
    confirmed the message: a row is an unsent message. ``due_at`` is when a relay may
    publish it: the task's run time, a few seconds later for a task the web process
    publishes itself right after the commit (so the relay leaves it alone), or the end
    of a relay's claim on it while that relay publishes.
    """

    task = models.OneToOneField(
        TaskRecord, primary_key=True, on_delete=models.CASCADE, related_name="outbox"
    )
    due_at = models.DateTimeField(db_index=True)
    # Publishes tried and failed (the broker down), and the last failure, for operators.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.task_id} due {self.due_at:%Y-%m-%d %H:%M:%S}"
