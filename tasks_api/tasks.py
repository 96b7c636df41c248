"""The built-in task types (README, "Tasks") and beat's daily jobs.

Each type is a function decorated with ``@task_type`` beside its arguments serializer;
the docstring is the description ``GET /api/v1/tasks/types/`` shows. Bodies stay
small: the work itself lives in ``tasks_api.services`` and ``tasks_api.text``.
"""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task
from rest_framework import serializers

from sessions_api.fields import StrictCharField, StrictIntegerField, StrictNumberField
from tasks_api import services
from tasks_api.registry import ArgsSerializer
from tasks_api.runtime import RegisteredTask, task_type
from tasks_api.text import text_stats

# How often a sleeping demo.sleep looks at its cancel flag, in seconds.
CANCEL_POLL_SECONDS = 0.5


class TaskFailed(Exception):
    """The error demo.fail ends with (its ``error.type``)."""


class AddArgs(ArgsSerializer):
    a = StrictNumberField(help_text="A number.")
    b = StrictNumberField(help_text="Another number.")


@task_type("demo.add", args=AddArgs)
def demo_add(task: RegisteredTask, *, a: float, b: float) -> float:
    """Add two numbers; the result is `a + b`."""
    return a + b


class SleepArgs(ArgsSerializer):
    seconds = StrictNumberField(min_value=0, max_value=600, help_text="How long to sleep.")
    steps = StrictIntegerField(
        min_value=1, max_value=1000, default=10, help_text="Progress reports along the way."
    )


@task_type("demo.sleep", args=SleepArgs)
def demo_sleep(task: RegisteredTask, *, seconds: float, steps: int = 10) -> dict[str, Any]:
    """Sleep `seconds` in `steps` equal steps, reporting progress after each; stops
    within a second when cancelled. The result is `{"slept": seconds}`."""
    deadline = time.monotonic()
    step = seconds / steps
    for current in range(1, steps + 1):
        deadline += step
        while True:  # a step may be long: look at the cancel flag as it passes
            task.stop_if_cancelled()
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, CANCEL_POLL_SECONDS))
        task.report_progress(current=current, total=steps, message=f"step {current} of {steps}")
    return {"slept": seconds}


class FailArgs(ArgsSerializer):
    message = StrictCharField(max_length=1000, allow_blank=True, help_text="The error message.")


@task_type("demo.fail", args=FailArgs)
def demo_fail(task: RegisteredTask, *, message: str) -> None:
    """Always fail, with `error.type` `TaskFailed` and `error.message` the given message."""
    raise TaskFailed(message)


class TextStatsArgs(ArgsSerializer):
    text = StrictCharField(
        max_length=1024 * 1024,
        max_bytes=1024 * 1024,
        allow_blank=True,
        help_text="The text, at most 1 MiB as UTF-8.",
    )
    top = StrictIntegerField(
        min_value=1, max_value=100, default=10, help_text="How many frequent words to list."
    )


@task_type("text.stats", args=TextStatsArgs)
def text_stats_task(task: RegisteredTask, *, text: str, top: int = 10) -> dict[str, Any]:
    """Count characters, words and lines, and list the `top` most frequent words
    (case-folded, ties in alphabetical order) as `[word, count]` pairs."""
    return text_stats(text=text, top=top)


class MailSendArgs(ArgsSerializer):
    to = serializers.ListField(
        child=serializers.EmailField(),
        min_length=1,
        max_length=50,
        help_text="Recipients; each gets their own message.",
    )
    subject = StrictCharField(max_length=200, allow_blank=True, help_text="One line.")
    body = StrictCharField(max_length=100000, allow_blank=True, help_text="Plain text.")

    def validate_subject(self, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise serializers.ValidationError("The subject must be a single line.")
        return value


@task_type(
    "mail.send", args=MailSendArgs, requires="user", on_enqueue=services.mail_recipients_reserve
)
def mail_send(task: RegisteredTask, *, to: list[str], subject: str, body: str) -> dict[str, int]:
    """Send one plain-text message to each recipient (no one sees the others) through
    the server's e-mail backend, each at most once, even when a worker dies mid-send.
    The result is `{"sent": N}`. Recipients count against the sender's daily budget."""
    sent = services.mail_send_each(
        task_id=task.request.id,
        recipients=to,
        subject=subject,
        body=body,
        before_each=task.stop_if_cancelled,
    )
    return {"sent": sent}


class NoArgs(ArgsSerializer):
    pass


@task_type("sessions.clear_expired", args=NoArgs, requires="staff")
def sessions_clear_expired(task: RegisteredTask) -> dict[str, Any]:
    """Delete expired sessions (Django's `clearsessions`); also runs daily from beat."""
    return services.expired_sessions_clear()


# --- Beat's daily jobs (not task types: nobody owns them, so they have no record) ---


@shared_task(name="tasks_api.sessions_clear_expired_daily")
def sessions_clear_expired_daily() -> dict[str, Any]:
    return services.expired_sessions_clear()


@shared_task(name="tasks_api.tasks_prune_daily")
def tasks_prune_daily() -> int:
    return services.tasks_prune()
