"""The in-process client the tests use, the run's cache cleaner, and ``need``."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.namespace import delete_cache_keys
from tests.servers import remember_secret
from tests.settings import REDIS_AVAILABLE

IN_CI = os.environ.get("CI", "").lower() == "true"


def need(available: bool, what: str) -> None:
    """Skip a test whose real service or tool is missing; under CI=true that is a
    failure. A test that needs a server takes its fixture instead (``redis_server``,
    ``rabbitmq_server``, ``postgres_server`` in tests/conftest.py), which calls this and
    marks the test ``integration``."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI=true requires it.")
    pytest.skip(f"{what} is not available.")


class Client(APIClient):
    """An APIClient that enforces CSRF like a browser does and sends JSON.

    It notes every session cookie and CSRF token it receives, so the log check at the
    end of the run can prove none of them was logged.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(enforce_csrf_checks=True, **kwargs)

    def request(self, **kwargs: Any):
        response = super().request(**kwargs)
        for morsel in response.cookies.values():
            remember_secret(morsel.value)
        return response

    def csrf(self) -> str:
        """Fetch a CSRF token and send it on every later request."""
        response = self.get("/api/v1/auth/csrf/")
        assert response.status_code == 200, response.content
        token = response.json()["csrf_token"]
        remember_secret(token)
        self.credentials(HTTP_X_CSRFTOKEN=token)
        return token

    def generic(self, method: str, path: str, data: Any = "", content_type: Any = None, **kw: Any):
        return super().generic(method, path, data, content_type or "application/json", **kw)

    def send(self, method: str, path: str, body: Any = None, **kw: Any):
        """JSON-encode ``body`` and send it with ``method``."""
        data = "" if body is None else json.dumps(body)
        return self.generic(method, path, data, "application/json", **kw)

    def session_cookie(self) -> str | None:
        morsel = self.cookies.get(settings.SESSION_COOKIE_NAME)
        return morsel.value if morsel and morsel.value else None


def clear_run_cache() -> None:
    """Empty this process's cache, and only it.

    On Redis that is the keys under this process's KEY_PREFIX (tests/settings.py), not
    FLUSHDB: the database is shared with the servers the tests start (each under a
    prefix of its own) and with other runs.
    """
    if not REDIS_AVAILABLE:
        cache.clear()  # local memory: this process's own
        return
    delete_cache_keys(cache.key_prefix, client=cache._cache.get_client(write=True))
