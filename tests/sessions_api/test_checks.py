"""The system check that the login registry's middleware is installed."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.test import override_settings

from sessions_api.checks import REGISTRY_MIDDLEWARE, registry_middleware_check
from sessions_api.middleware import RegistryAuthenticationMiddleware

STOCK = "django.contrib.auth.middleware.AuthenticationMiddleware"


class ProjectAuthenticationMiddleware(RegistryAuthenticationMiddleware):
    """A project's own subclass."""


def with_auth(middleware: str) -> list[str]:
    return [middleware if m == REGISTRY_MIDDLEWARE else m for m in settings.MIDDLEWARE]


def test_the_registry_middleware_or_a_subclass_passes() -> None:
    assert registry_middleware_check(None) == []
    assert registry_middleware_check in checks.registry.registry.get_checks()
    subclass = f"{__name__}.ProjectAuthenticationMiddleware"
    with override_settings(MIDDLEWARE=with_auth(subclass)):
        assert registry_middleware_check(None) == []


def test_djangos_own_authentication_middleware_is_an_error() -> None:
    with override_settings(MIDDLEWARE=with_auth(STOCK)):
        errors = registry_middleware_check(None)
    assert [error.id for error in errors] == ["sessions_api.E001"], errors
    assert REGISTRY_MIDDLEWARE in errors[0].msg
