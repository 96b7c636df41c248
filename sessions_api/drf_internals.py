"""The private parts of Django REST framework the apps use, in one place.

DRF's ``Request`` wraps Django's ``HttpRequest`` and proxies most of it, but gives no
public way back to the wrapped object, which Django's own auth, session and CSRF
functions need (``auth.login()``, ``get_token()``, ``CsrfViewMiddleware``): DRF's own
code and documentation reach for ``request._request``. ``tests/sessions_api/
test_internals.py`` fails if it moves.
"""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request


def django_request(request: Request | HttpRequest) -> HttpRequest:
    """The ``HttpRequest`` under a DRF ``Request`` (or the request itself)."""
    if isinstance(request, Request):
        return request._request
    return request
