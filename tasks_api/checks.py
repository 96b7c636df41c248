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

from tasks_api.conf import app_settings
from tasks_api.registry import REGISTRY


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


@checks.register()
def disabled_types_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``tasks_api.W001``: every name in ``TASKS_DISABLED_TYPES`` is a registered type.

    A misspelt name switches nothing off, and leaves on the type it meant. A warning,
    not an error: a type from another app's ``tasks.py`` registers only once that
    module is imported, which may be after the checks ran.
    """
    unknown = sorted(set(app_settings.TASKS_DISABLED_TYPES) - set(REGISTRY))
    if not unknown:
        return []
    return [
        checks.Warning(
            f"TASKS_DISABLED_TYPES names {', '.join(map(repr, unknown))}, which no task type "
            "is registered as; it switches nothing off.",
            hint=f"Registered types: {', '.join(sorted(REGISTRY))}.",
            id="tasks_api.W001",
        )
    ]
