"""App configuration for tasks_api: registers the task types and the login receiver,
and checks where Celery keeps results."""

from __future__ import annotations

from django.apps import AppConfig


class TasksApiConfig(AppConfig):
    name = "tasks_api"
    verbose_name = "Tasks API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing them registers the task types with Celery and the catalogue, the
        # system checks, and the receiver that hands anonymous tasks over on login.
        from tasks_api import checks, receivers, tasks  # noqa: F401
