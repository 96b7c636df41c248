"""Every error rendered once, as an RFC 9457 problem document (``application/problem+json``).

DRF hands the errors raised in a view to ``problem_exception_handler`` (the API's views
use it whatever the project's ``EXCEPTION_HANDLER`` says, see ``sessions_api.rest``);
what Django answers on its own (unknown URL, CSRF failure, oversized body, an uncaught
exception) goes through the ``handler*`` views below, which render the same shape for
the paths in ``SESSION_API_PROBLEM_PATHS`` and leave Django's HTML pages elsewhere.
A project points its ``handler400``/``403``/``404``/``500`` and ``CSRF_FAILURE_VIEW``
here.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.views import exception_handler as drf_exception_handler

from sessions_api.conf import app_settings
from sessions_api.errors import (
    DEPENDENCY_ERRORS,
    CsrfFailed,
    RequestTooLarge,
    ServiceUnavailable,
)

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
_JSON = JSONRenderer()


# --- Rendering ---------------------------------------------------------------------


def _flatten(detail: Any, path: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested validation detail into a flat list of field errors."""
    if isinstance(detail, dict):
        items: list[dict[str, str]] = []
        for name, sub in detail.items():
            items.extend(_flatten(sub, f"{path}.{name}" if path else str(name)))
        return items
    if isinstance(detail, list):
        items = []
        for index, sub in enumerate(detail):
            if isinstance(sub, (dict, list)):
                items.extend(_flatten(sub, f"{path}.{index}" if path else str(index)))
            else:
                items.extend(_flatten(sub, path))
        return items
    return [
        {
            "field": path or "non_field_errors",
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
        }
    ]


def problem_body(
    *, status_code: int, code: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """The problem document every error response carries."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status_code,
        "code": code,
        "detail": detail,
    }
    body.update(extra)
    return body


def problem_from_exception(exc: exceptions.APIException) -> dict[str, Any]:
    """Build the problem document for one APIException."""
    title = str(getattr(type(exc), "default_detail", "")) or "Error."
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first = errors[0] if errors else {"field": "", "message": title}
        detail = (
            first["message"]
            if first["field"] == "non_field_errors"
            else f"{first['field']}: {first['message']}"
        )
        if len(errors) > 1:
            detail += f" ({len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
        return problem_body(
            status_code=exc.status_code, code="invalid", title=title, detail=detail, errors=errors
        )
    raw = exc.detail
    code = exc.get_codes()
    if isinstance(raw, (list, dict)):
        # A non-validation APIException raised with structured detail: keep it readable.
        detail = "; ".join(item["message"] for item in _flatten(raw))
    else:
        detail = str(raw)
        code = type(exc).default_code
    return problem_body(
        status_code=exc.status_code, code=str(code), title=title, detail=str(detail)
    )


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpResponse:
    """The problem as JSON, whatever the view renders otherwise.

    A plain ``HttpResponse``, rendered here: DRF renders a ``Response`` with the view's
    negotiated renderer, or, when negotiation itself failed (``?format=`` naming no
    renderer), with the view's first one, which for the schema view is YAML.
    """
    response = HttpResponse(
        _JSON.render(body), status=body["status"], content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        if name.lower() != "content-type":
            response[name] = value
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF's ``EXCEPTION_HANDLER``: every error raised in a view becomes a problem."""
    if isinstance(exc, DEPENDENCY_ERRORS):
        logger.warning("Dependency unavailable: %s: %s", type(exc).__name__, exc)
        exc = ServiceUnavailable()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    body = problem_from_exception(exc)  # type: ignore[arg-type]
    return problem_response(body, headers=dict(response.headers))


# --- Django's own error views ------------------------------------------------------


def _wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith(tuple(app_settings.SESSION_API_PROBLEM_PATHS))


def django_problem(exc: exceptions.APIException) -> JsonResponse:
    """A problem response outside DRF (middleware and Django's error handlers)."""
    body = problem_from_exception(exc)
    response = JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    wait = getattr(exc, "wait", None)
    if wait is not None:
        response["Retry-After"] = str(int(wait))
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: Django's CSRF middleware refused the request."""
    if _wants_problem(request):
        return django_problem(CsrfFailed(f"CSRF failed: {reason}"))
    return django_csrf_failure(request, reason=reason)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_problem(request):
        if isinstance(exception, RequestDataTooBig):
            return django_problem(RequestTooLarge())
        return django_problem(exceptions.ParseError("The request could not be understood."))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_problem(request):
        return django_problem(exceptions.PermissionDenied())
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_problem(request):
        return django_problem(exceptions.NotFound(f"No resource at {request.path}."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``; a dependency that is down is answered 503, not 500, on Django's
    HTML pages too (the admin's login with the cache down, say): the server is not at
    fault, and the request may well succeed once the dependency is back."""
    exc = sys.exc_info()[1]
    down = isinstance(exc, DEPENDENCY_ERRORS)
    if _wants_problem(request):
        if down:
            return django_problem(ServiceUnavailable())
        return django_problem(exceptions.APIException("The server failed to answer this request."))
    if down:
        return HttpResponse(_UNAVAILABLE_PAGE, status=ServiceUnavailable.status_code)
    return defaults.server_error(request)


# Plain, like Django's own 500 page when there is no 500.html: nothing here may need
# the dependency that is down (a template loader, a database).
_UNAVAILABLE_PAGE = (
    "<!doctype html>\n<title>Service unavailable</title>\n<h1>Service unavailable</h1>\n"
    "<p>A service this page needs is not answering. Try again in a moment.</p>\n"
)


__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "bad_request",
    "csrf_failure",
    "django_problem",
    "page_not_found",
    "permission_denied",
    "problem_body",
    "problem_exception_handler",
    "problem_response",
    "server_error",
]
