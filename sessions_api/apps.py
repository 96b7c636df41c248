"""App configuration for sessions_api: receivers, the OpenAPI scheme, the engine and
middleware checks."""

from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sessions_api.engines import store_check


class SessionsApiConfig(AppConfig):
    name = "sessions_api"
    verbose_name = "Sessions API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing them connects the registry to Django's signals, registers the system
        # checks and the OpenAPI authentication scheme; they need the app registry ready.
        from sessions_api import checks, receivers, schema  # noqa: F401

        # A SESSION_ENGINE the app cannot run on stops start-up (ImproperlyConfigured,
        # which the project's entry points print as one line).
        engine = settings.SESSION_ENGINE
        try:
            module = import_module(engine)
        except ModuleNotFoundError as error:
            if not error.name or not f"{engine}.".startswith(f"{error.name}."):
                raise  # the engine's module exists and imports something that does not
            raise ImproperlyConfigured(f"SESSION_ENGINE={engine!r}: no such module.") from None
        if not hasattr(module, "SessionStore"):
            raise ImproperlyConfigured(
                f"SESSION_ENGINE={engine!r}: its module has no SessionStore."
            )
        store_check(store=module.SessionStore, engine=engine)
