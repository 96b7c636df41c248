"""App configuration for sessions_api: receivers, the OpenAPI scheme, the engine check."""

from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.conf import settings

from sessions_api.engines import store_check


class SessionsApiConfig(AppConfig):
    name = "sessions_api"
    verbose_name = "Sessions API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing them connects the registry to Django's signals and registers the
        # OpenAPI authentication scheme; both modules need the app registry ready.
        from sessions_api import receivers, schema  # noqa: F401

        engine = settings.SESSION_ENGINE
        store_check(store=import_module(engine).SessionStore, engine=engine)
