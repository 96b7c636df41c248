"""The errors of the task endpoints, as data (rendered by ``sessions_api.problems``)."""

from __future__ import annotations

from rest_framework import exceptions, status


class UnknownTask(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "There is no task type by this name; GET /api/v1/tasks/types/ lists them."
    default_code = "unknown_task"


class TaskFinished(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The task has already finished, so it can no longer be cancelled."
    default_code = "task_finished"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "This Idempotency-Key was already used with a different request body; "
        "use a new key for a new request."
    )
    default_code = "idempotency_conflict"


class BrokerUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "Too many tasks wait for the message broker, which cannot take them at the "
        "moment; nothing was queued. Try again shortly."
    )
    default_code = "broker_unavailable"


class TooManyActiveTasks(exceptions.Throttled):
    default_detail = "Too many unfinished tasks; wait for one to finish, or cancel one."


class MailRecipientsExhausted(exceptions.Throttled):
    default_detail = "The daily budget of mail recipients is used up."
