"""Middleware: who the caller is, checked against the login registry on every request."""

from __future__ import annotations

from typing import Any

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from sessions_api.engines import api_session
from sessions_api.models import UserSession


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
