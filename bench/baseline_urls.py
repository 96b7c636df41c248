"""The bare Django baseline: plain function views doing the API's session operations.

Served under the same paths as the API, so the load generator sends byte-for-byte the
same requests to both servers and every middleware (including the ``/api/`` body
guard) takes the same branch. Unsafe methods are CSRF-checked by Django's
``CsrfViewMiddleware``, as a plain Django view is; the API checks CSRF in its DRF
authentication class instead.

The views do what a careful plain-Django developer would, and nothing more: no key
name rules, no size limits, no problem documents. What the API does beyond this is
exactly what the benchmark prices.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bench.celery_app import add

_MISSING = object()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
@ensure_csrf_cookie
def csrf(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"csrf_token": get_token(request)})


@require_GET
def session_detail(request: HttpRequest) -> JsonResponse:
    """A few attributes of the session, as ``GET /api/v1/session/`` reports them."""
    session = request.session
    user = request.user
    return JsonResponse(
        {
            "keys": sum(1 for key in session.keys() if not key.startswith("_")),  # noqa: SIM118
            "is_empty": session.is_empty(),
            "user": user.pk if user.is_authenticated else None,
            "expiry": {
                "age": session.get_expiry_age(),
                "expires_at": session.get_expiry_date().isoformat(),
                "at_browser_close": session.get_expire_at_browser_close(),
            },
        }
    )


@require_http_methods(["GET", "PUT"])
def session_key(request: HttpRequest, key: str) -> JsonResponse:
    """GET: ``request.session.get(key)``; PUT: ``request.session[key] = body["value"]``."""
    if request.method == "PUT":
        value = json.loads(request.body)["value"]
        request.session[key] = value
        return JsonResponse({"key": key, "value": value})
    value = request.session.get(key, _MISSING)
    if value is _MISSING:
        return JsonResponse({"detail": "not found"}, status=404)
    return JsonResponse({"key": key, "value": value})


@require_POST
def task_enqueue(request: HttpRequest) -> JsonResponse:
    """``POST /api/v1/tasks/``: ``apply_async`` of a plain Celery task, as a Django view
    without an outbox would (the same broker, confirms and queue as the API)."""
    args = json.loads(request.body)["args"]
    result = add.apply_async(kwargs=args)
    return JsonResponse({"id": result.id, "status": "PENDING"}, status=202)


urlpatterns = [
    path("healthz", healthz),
    path("api/v1/auth/csrf/", csrf),
    path("api/v1/session/", session_detail),
    path("api/v1/session/keys/<str:key>/", session_key),
    path("api/v1/tasks/", task_enqueue),
]
