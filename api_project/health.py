"""Liveness and readiness probes (not part of the OpenAPI schema)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_api.problems import problem_body, problem_response
from sessions_api.rest import ApiView
from sessions_api.selectors import session_engine_name
from tasks_api.broker import check as check_broker

# Engines whose sessions live in the cache: readiness must include it for them.
CACHE_ENGINES = {"cache", "cached_db"}



def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    cache = caches[settings.SESSION_CACHE_ALIAS]
    probe = f"readyz:{uuid.uuid4().hex}"
    cache.set(probe, 1, timeout=5)
    if cache.get(probe) != 1:
        raise RuntimeError("the cache did not return what was stored")
    cache.delete(probe)


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # a probe reports every failure, whatever its type
        result: dict[str, Any] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
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
    """Readiness: the database, the cache (when sessions use it) and the broker."""

    def get(self, request: Request) -> Response:
        checks = {"database": _timed(check_database)}
        if session_engine_name() in CACHE_ENGINES:
            checks["cache"] = _timed(check_cache)
        checks["broker"] = _timed(check_broker)
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
