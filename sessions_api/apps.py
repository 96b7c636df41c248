"""App configuration for sessions_api: receivers, the OpenAPI scheme, the engine and
middleware checks."""

from __future__ import annotations

from django.apps import AppConfig

from sessions_api.engines import configured_store


class SessionsApiConfig(AppConfig):
    name = "sessions_api"
    verbose_name = "Sessions API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing them connects the registry (and the session events) to Django's
        # signals, registers the system checks and the OpenAPI authentication scheme;
        # they need the app registry ready.
        from sessions_api import checks, receivers, schema  # noqa: F401
        from sessions_api.events import receivers as event_receivers  # noqa: F401

        # A SESSION_ENGINE the app cannot run on stops start-up (ImproperlyConfigured,
        # which the project's entry points print as one line).
        configured_store()
