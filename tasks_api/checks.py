"""System checks of tasks_api (``manage.py check``, ``migrate``, ``runserver``).

Registered by importing this module in ``TasksApiConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import current_app
from celery.app.backends import by_url
from celery.exceptions import ImproperlyConfigured
from django.apps import AppConfig
from django.core import checks
from django_celery_results.backends import DatabaseBackend


@checks.register()
def result_backend_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``tasks_api.E001``: Celery must keep results in django-celery-results' table.

    The API reads a task's state from that table, so with any other result backend
    (or none: the project's Celery app not loaded by Django, or no
    ``CELERY_RESULT_BACKEND``) every task stays ``PENDING`` however it ran.
    """
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
