"""System checks of sessions_api (``manage.py check``, ``migrate``, ``runserver``): the
registry middleware is installed, and a prefixed cookie name is one browsers keep.

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


# What a browser asks of a cookie whose name has one of these prefixes (RFC 6265bis,
# "Cookie Name Prefixes"; matched without regard to case), or it drops the cookie.
HOST_PREFIX = "__host-"
SECURE_PREFIX = "__secure-"


@checks.register()
def cookie_prefix_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``sessions_api.E002``: a ``__Host-``/``__Secure-`` cookie name its browser will keep.

    A browser silently ignores a ``Set-Cookie`` named ``__Secure-…`` without
    ``Secure``, or ``__Host-…`` without ``Secure``, with a ``Domain`` or with a path
    other than ``/``: every login would seem to be forgotten at once. Checked for the
    session cookie and the CSRF cookie.
    """
    errors: list[checks.CheckMessage] = []
    for kind in ("SESSION", "CSRF"):
        name = str(getattr(settings, f"{kind}_COOKIE_NAME"))
        secure = bool(getattr(settings, f"{kind}_COOKIE_SECURE"))
        domain = getattr(settings, f"{kind}_COOKIE_DOMAIN")
        path = getattr(settings, f"{kind}_COOKIE_PATH")
        wrong = []
        if name.lower().startswith((HOST_PREFIX, SECURE_PREFIX)) and not secure:
            wrong.append(f"{kind}_COOKIE_SECURE is off")
        if name.lower().startswith(HOST_PREFIX):
            if domain:
                wrong.append(f"{kind}_COOKIE_DOMAIN is set")
            if path != "/":
                wrong.append(f"{kind}_COOKIE_PATH is not '/'")
        if wrong:
            errors.append(
                checks.Error(
                    f"{kind}_COOKIE_NAME={name!r}, but {' and '.join(wrong)}: browsers "
                    "drop such a cookie.",
                    hint=f"A {name.split('-')[0]}- cookie needs {kind}_COOKIE_SECURE=True"
                    + (
                        f", no {kind}_COOKIE_DOMAIN and {kind}_COOKIE_PATH='/'"
                        if name.lower().startswith(HOST_PREFIX)
                        else ""
                    )
                    + "; or choose a name without the prefix.",
                    obj=f"{kind}_COOKIE_NAME",
                    id="sessions_api.E002",
                )
            )
    return errors
