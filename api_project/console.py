"""The browser console at ``/``: a small single-page app over the public API.

Django renders the first paint (who is signed in, the settings the page needs, links to
the docs); ``static/console/console.js`` does the rest through the documented
endpoints only. That script is built (esbuild, output committed) from the TypeScript
in ``clients/typescript/console/``, on the typed client of ``clients/typescript/``.
The page is not part of the API, so it is not in the OpenAPI schema (drf-spectacular
only describes DRF views).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from sessions_api.conf import app_settings
from sessions_api.policy import KEY_NAME_SCHEMA, limits
from tasks_api.policy import rules as task_rules


def _csrf_header_name() -> str:
    """``CSRF_HEADER_NAME`` as an HTTP header (``HTTP_X_CSRFTOKEN`` -> ``X-CSRFTOKEN``)."""
    name = settings.CSRF_HEADER_NAME
    return name.removeprefix("HTTP_").replace("_", "-")


@require_safe
@ensure_csrf_cookie  # the first unsafe call needs the csrftoken cookie already set
def console_view(request: HttpRequest) -> HttpResponse:
    config = {
        "csrfCookieName": settings.CSRF_COOKIE_NAME,
        "csrfHeaderName": _csrf_header_name(),
        "allowRegistration": app_settings.ALLOW_REGISTRATION,
        # The rules the console shows and checks, from the modules that define them.
        "keyName": KEY_NAME_SCHEMA,
        "limits": limits(),
        "tasks": task_rules(),
    }
    return render(request, "console.html", {"console_config": config})
