"""App configuration for tasks_api."""

from django.apps import AppConfig


class TasksApiConfig(AppConfig):
    name = "tasks_api"
    verbose_name = "Tasks API"
    default_auto_field = "django.db.models.BigAutoField"
