"""The Celery application, configured from Django settings (``CELERY_*``)."""

import os
from typing import Any

import django
from celery import Celery, signals

from api_project.config import stop_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")


@signals.import_modules.connect
def _django_setup(**kwargs: Any) -> None:
    """Set Django up first when a worker or beat starts, so a refusal is one line.

    Connected before the app exists, so before Celery's Django fix-up, whose own
    ``django.setup()`` runs in a signal handler that logs any exception with its
    traceback and carries on; a ``SystemExit`` stops the process.
    """
    with stop_on_configuration_error():
        django.setup()


app = Celery("api_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
