"""App configuration for tasks_api: registers the task types, receivers and probe."""

from django.apps import AppConfig


class TasksApiConfig(AppConfig):
    name = "tasks_api"
    verbose_name = "Tasks API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api_project.health import READINESS_CHECKS
        from tasks_api import broker, receivers, tasks  # noqa: F401 - registration

        READINESS_CHECKS["broker"] = broker.check
