"""App configuration for sessions_api."""

from django.apps import AppConfig


class SessionsApiConfig(AppConfig):
    name = "sessions_api"
    verbose_name = "Sessions API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the registry to login/logout; registers the OpenAPI auth scheme.
        from sessions_api import receivers, schema  # noqa: F401
