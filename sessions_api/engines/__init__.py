"""Session engines: Django's five stores, each extended to meet one declared contract.

``SESSION_ENGINE=db`` (and the other short names) selects the module of the same name
here; each defines ``SessionStore`` over Django's store and ``ApiSessionStore``
(``engines/base.py``), the contract every engine the API runs on must meet.

This package is a leaf: it imports Django and nothing else of ``sessions_api``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Protocol, cast

from django.conf import settings
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


def configured_store() -> type[ApiSessionStore]:
    """The ``SessionStore`` of ``SESSION_ENGINE``, refused with one line unless it meets
    the contract (``ImproperlyConfigured``, which the project's entry points print)."""
    engine = str(settings.SESSION_ENGINE)
    try:
        module = import_module(engine)
    except ModuleNotFoundError as error:
        if not error.name or not f"{engine}.".startswith(f"{error.name}."):
            raise  # the engine's module exists and imports something that does not
        raise ImproperlyConfigured(f"SESSION_ENGINE={engine!r}: no such module.") from None
    store = getattr(module, "SessionStore", None)
    if store is None:
        raise ImproperlyConfigured(f"SESSION_ENGINE={engine!r}: its module has no SessionStore.")
    store_check(store=store, engine=engine)
    return cast(type[ApiSessionStore], store)


class _HasSession(Protocol):
    session: Any


def api_session(request: _HasSession) -> ApiSessionStore:
    """``request.session`` as the contract it meets (checked when the app starts)."""
    return cast(ApiSessionStore, request.session)


__all__ = [
    "ENGINE_MODULES",
    "ENGINE_NAMES",
    "ApiSessionStore",
    "api_session",
    "configured_store",
    "store_check",
]
