"""Base classes for every API view of the project."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework import viewsets
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

_JSON = JSONRenderer()


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


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """``data`` as the API's JSON renderer writes it, in a plain ``HttpResponse``.

    For the hottest reads and writes, whose data is already plain JSON: it skips the
    template-response render step of DRF's ``Response``, not content negotiation (which
    ran in ``initial()``, so a 406 is still a 406) nor ``finalize_response``.
    """
    return HttpResponse(_JSON.render(data), status=status, content_type=_JSON.media_type)
