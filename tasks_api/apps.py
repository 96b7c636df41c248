"""App configuration for tasks_api: registers the task types and the login receiver,
and checks where Celery keeps results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks


def result_backend_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``tasks_api.E001``: Celery must keep results in django-celery-results' table.

    The API reads a task's state from that table, so with any other result backend
    (or none: the project's Celery app not loaded by Django, or no
    ``CELERY_RESULT_BACKEND``) every task stays ``PENDING`` however it ran.
    """
    from celery import current_app
    from celery.app.backends import by_url
    from celery.exceptions import ImproperlyConfigured
    from django_celery_results.backends import DatabaseBackend

    url = current_app.conf.result_backend
    try:
        backend, _ = by_url(url, current_app.loader)
    except (ImportError, ImproperlyConfigured):
        backend = None
    if isinstance(backend, type) and issubclass(backend, DatabaseBackend):
        return []
    return [
        checks.Error(
            f"Celery's result backend is {url!r}; tasks_api reads task states from "
            "django-celery-results' database table.",
            hint='Set CELERY_RESULT_BACKEND = "django-db", and import the project\'s Celery '
            "app in its package's __init__.py so that Django loads it.",
            id="tasks_api.E001",
        )
    ]


class TasksApiConfig(AppConfig):
    name = "tasks_api"
    verbose_name = "Tasks API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing them registers the task types with Celery and the catalogue, and
        # connects the receiver that hands anonymous tasks over on login.
        from tasks_api import receivers, tasks  # noqa: F401

        checks.register(result_backend_check)
