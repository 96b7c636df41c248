"""Session engines: Django's five stores, each extended to meet one declared contract.

``SESSION_ENGINE=db`` (and the other short names) selects the module of the same name
here; each defines ``SessionStore`` over Django's store and ``ApiSessionStore``
(``engines/base.py``), the contract every engine the API runs on must meet.

This package is a leaf: it imports Django and nothing else of ``sessions_api``.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ImproperlyConfigured

from sessions_api.engines.base import ApiSessionStore

# The short engine names and the module of each (the one list of them).
ENGINE_MODULES: dict[str, str] = {
    "db": "sessions_api.engines.db",
    "file": "sessions_api.engines.file",
    "cache": "sessions_api.engines.cache",
    "cached_db": "sessions_api.engines.cached_db",
    "signed_cookies": "sessions_api.engines.signed_cookies",
}
ENGINE_NAMES: tuple[str, ...] = tuple(ENGINE_MODULES)


def store_check(*, store: type[SessionBase], engine: str) -> None:
    """Refuse, with one line, a ``SessionStore`` that does not meet the contract."""
    if not (isinstance(store, type) and issubclass(store, ApiSessionStore)):
        raise ImproperlyConfigured(
            f"SESSION_ENGINE={engine!r}: its SessionStore does not subclass "
            "sessions_api.engines.base.ApiSessionStore; use one of "
            f"{', '.join(ENGINE_MODULES.values())}, or build yours on ApiSessionStore."
        )
    if not store.engine_name:
        raise ImproperlyConfigured(
            f"SESSION_ENGINE={engine!r}: its SessionStore sets no engine_name."
        )


class _HasSession(Protocol):
    session: Any


def api_session(request: _HasSession) -> ApiSessionStore:
    """``request.session`` as the contract it meets (checked when the app starts)."""
    return cast(ApiSessionStore, request.session)


__all__ = ["ENGINE_MODULES", "ENGINE_NAMES", "ApiSessionStore", "api_session", "store_check"]
