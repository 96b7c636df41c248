"""System checks of sessions_api (``manage.py check``, ``migrate``, ``runserver``).

Registered by importing this module in ``SessionsApiConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from sessions_api.middleware import RegistryAuthenticationMiddleware

REGISTRY_MIDDLEWARE = "sessions_api.middleware.RegistryAuthenticationMiddleware"


@checks.register()
def registry_middleware_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``sessions_api.E001``: ``request.user`` must come from the registry's middleware.

    With Django's own ``AuthenticationMiddleware`` in its place everything seems to
    work, but no request checks its login against the registry: on ``signed_cookies``
    (no server-side copy to delete) a copy of the cookie of a login that was revoked or
    logged out stays logged in, and no login's last-seen time is kept.
    """
    for path in settings.MIDDLEWARE:
        try:
            middleware = import_string(path)
        except ImportError:
            continue
        if isinstance(middleware, type) and issubclass(
            middleware, RegistryAuthenticationMiddleware
        ):
            return []
    return [
        checks.Error(
            f"MIDDLEWARE does not contain {REGISTRY_MIDDLEWARE!r}.",
            hint="Put it in place of 'django.contrib.auth.middleware.AuthenticationMiddleware'"
            ", so that each request's login is checked against the registry.",
            obj="MIDDLEWARE",
            id="sessions_api.E001",
        )
    ]
