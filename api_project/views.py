"""Base classes for every API view of the project."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.views import APIView


class MethodFirstMixin:
    """Answer ``405 method_not_allowed`` before CSRF, login, permission and throttle checks.

    DRF runs those checks in ``initial()`` and only then looks for a handler, so an
    unsupported method on an endpoint for logged-in users answered 403 (or 429) and hid
    what was really wrong with the request.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):  # type: ignore[attr-defined]
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


class ApiView(MethodFirstMixin, APIView):
    """An APIView that checks the method first."""


class ApiViewSet(MethodFirstMixin, viewsets.ViewSet):
    """A ViewSet that checks the method first."""


class ApiGenericViewSet(MethodFirstMixin, viewsets.GenericViewSet):
    """A GenericViewSet (pagination, filtering) that checks the method first."""
