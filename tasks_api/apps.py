"""App configuration for tasks_api: registers the task types and the login receiver."""

from django.apps import AppConfig


class TasksApiConfig(AppConfig):
    name = "tasks_api"
    verbose_name = "Tasks API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing them registers the task types with Celery and the catalogue, and
        # connects the receiver that hands anonymous tasks over on login.
        from tasks_api import receivers, tasks  # noqa: F401
