"""Middleware: who the caller is (checked against the login registry), and body limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from sessions_api.engines import api_session
from sessions_api.errors import RequestTooLarge
from sessions_api.models import UserSession
from sessions_api.problems import django_problem


class RegistryAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's ``request.user``, valid only while the login is in the registry.

    Replaces ``django.contrib.auth.middleware.AuthenticationMiddleware``. The check runs
    once, here, when the request comes in: one indexed query for a logged-in session and
    none for an anonymous one. A login whose row is gone (logged out, revoked, or its
    password changed elsewhere) is over whatever the cookie says: the session is
    flushed (which also deletes a server-side copy) and the request is anonymous.
    ``request.user`` is then a plain attribute, so reading it never writes.
    """

    def process_request(self, request: HttpRequest) -> None:
        user: Any = auth.get_user(request)
        if user.is_authenticated:
            session = api_session(request)
            row = UserSession.objects.for_session(session=session, user_id=user.pk)
            if row is None:
                session.flush()
                user = AnonymousUser()
            else:
                row.touch(request=request, session=session)
        request.user = user

        async def auser() -> Any:
            return user

        request.auser = auser


class ApiRequestGuardMiddleware:
    """Refuse an oversized API body up front with ``413 request_too_large``.

    Django enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when ``request.body`` or
    ``request.POST`` is read; DRF's JSON parser streams the body and never checks it.
    Checking the declared length here covers every view and answers before anything
    (the session included) is touched.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if limit is not None and length > limit:
                return django_problem(
                    RequestTooLarge(
                        f"The request body is {length} bytes; the limit is {limit} bytes."
                    )
                )
        return self.get_response(request)
