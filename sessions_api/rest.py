"""What every API view of both apps is built on: DRF, configured by the apps themselves.

The views set their own authentication, parser, renderer, negotiation and exception
handler here, so the API behaves the same in any project that installs the apps,
whatever that project's ``REST_FRAMEWORK`` setting says about its other views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from rest_framework import generics, viewsets
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from sessions_api.authentication import CsrfSessionAuthentication
from sessions_api.drf_internals import django_request
from sessions_api.middleware import login_check_finish
from sessions_api.negotiation import JsonNegotiation
from sessions_api.parsers import StrictJSONParser
from sessions_api.problems import problem_exception_handler

_JSON = JSONRenderer()


class ApiView(APIView):
    """An APIView of the apps: their DRF configuration, and the method checked first.

    DRF runs the CSRF, login, permission and throttle checks in ``initial()`` and only
    then looks for a handler, so an unsupported method on an endpoint for logged-in
    users answered 403 (or 429) and hid what was really wrong with the request: here
    it is ``405 method_not_allowed`` before anything else.
    """

    authentication_classes = [CsrfSessionAuthentication]
    permission_classes = [AllowAny]
    parser_classes = [StrictJSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonNegotiation

    def get_exception_handler(self) -> Callable[..., Any]:
        return problem_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)
        # Authentication asked who the user is: end a revoked login before the handler
        # can read that session's data (see sessions_api.middleware).
        login_check_finish(django_request(request))


class ApiViewSet(viewsets.ViewSetMixin, ApiView):
    """A ViewSet of the apps (``ViewSet`` is ``ViewSetMixin`` over ``APIView``)."""


class ApiGenericViewSet(viewsets.ViewSetMixin, ApiView, generics.GenericAPIView):
    """A GenericViewSet of the apps (pagination, filtering)."""


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """``data`` as the API's JSON renderer writes it, in a plain ``HttpResponse``.

    For the hottest reads and writes, whose data is already plain JSON: it skips the
    template-response render step of DRF's ``Response``, not content negotiation (which
    ran in ``initial()``, so a 406 is still a 406) nor ``finalize_response``.
    """
    return HttpResponse(_JSON.render(data), status=status, content_type=_JSON.media_type)
