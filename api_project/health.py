"""Liveness and readiness probes (not part of the OpenAPI schema)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_api.problems import problem_body, problem_response
from sessions_api.rest import ApiView
from sessions_api.selectors import session_engine_name
from tasks_api.broker import check as check_broker

logger = logging.getLogger(__name__)

# Engines whose sessions live in the cache (SESSION_CACHE_ALIAS).
CACHE_ENGINES = {"cache", "cached_db"}
# Cache backends inside this process (or nowhere): nothing another process shares, and
# nothing that can be down.
LOCAL_CACHE_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def shared_caches() -> list[str]:
    """The cache aliases the service depends on that are servers (Redis, ...).

    The default cache holds the throttles' counts, the idempotency keys and the enqueue
    rates on every session engine; the cache engines keep the sessions themselves in
    ``SESSION_CACHE_ALIAS``. A local-memory or dummy cache is left out.
    """
    aliases = [DEFAULT_CACHE_ALIAS]
    if session_engine_name() in CACHE_ENGINES and settings.SESSION_CACHE_ALIAS not in aliases:
        aliases.append(settings.SESSION_CACHE_ALIAS)
    return [
        alias for alias in aliases if settings.CACHES[alias]["BACKEND"] not in LOCAL_CACHE_BACKENDS
    ]


def check_caches(aliases: list[str]) -> None:
    for alias in aliases:
        cache = caches[alias]
        probe = f"readyz:{uuid.uuid4().hex}"
        cache.set(probe, 1, timeout=5)
        if cache.get(probe) != 1:
            raise RuntimeError(f"the cache {alias!r} did not return what was stored")
        cache.delete(probe)


def _timed(name: str, check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # a probe reports every failure, whatever its type
        # The text names hosts, ports and database users: for the operator's log, and
        # for the body only in debug (the probe answers anyone).
        logger.warning("Readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
        result: dict[str, Any] = {"ok": False}
        if settings.DEBUG:
            result["error"] = f"{type(exc).__name__}: {exc}"[:300]
    else:
        result = {"ok": True}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


class ProbeView(ApiView):
    """Probes answer anyone and touch no session or CSRF machinery."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


@extend_schema(exclude=True)
class HealthzView(ProbeView):
    """Liveness: the process answers. Touches no dependency."""

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


@extend_schema(exclude=True)
class ReadyzView(ProbeView):
    """Readiness: the database, the cache (when it is a server) and the broker.

    A failed check is named in ``checks`` and ``detail``; why it failed is logged, and
    is in the body only when ``DEBUG`` is on.
    """

    def get(self, request: Request) -> Response:
        checks = {"database": _timed("database", check_database)}
        aliases = shared_caches()
        if aliases:
            checks["cache"] = _timed("cache", lambda: check_caches(aliases))
        checks["broker"] = _timed("broker", check_broker)
        if all(result["ok"] for result in checks.values()):
            return Response({"status": "ok", "checks": checks})
        failed = ", ".join(name for name, result in checks.items() if not result["ok"])
        body = problem_body(
            status_code=503,
            code="unavailable",
            title="A dependency is unavailable.",
            detail=f"Failing: {failed}.",
            checks=checks,
        )
        return problem_response(body)
