"""Who the caller is, checked against the login registry when a view asks.

``RegistryAuthenticationMiddleware`` replaces Django's ``AuthenticationMiddleware``.
``request.user`` stays lazy, as in Django (a probe or a static page that never asks
costs nothing, and works with the database down), and reading it only reads: the
session's user, and whether the login still has its registry row (one indexed query for
a logged-in session, none for an anonymous one). What the check found is acted on
explicitly by ``login_check_finish()``: a login whose row is gone (logged out, revoked,
or its password changed elsewhere) or older than ``SESSION_API_MAX_LOGIN_AGE`` is ended
by flushing the session (and dropping the row), whatever the cookie says, and last-seen
is refreshed at most once a minute. The API's base view calls it once DRF has
authenticated the request, before any view code runs, so a revoked session's data is
never served; the middleware calls it again (a no-op by then) on the way out, for every
other view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject

from sessions_api.engines import api_session
from sessions_api.models import UserSession
from sessions_api.request_log import LOGIN_CHECK_ATTRIBUTE


@dataclass
class LoginCheck:
    """What the registry check found for one request."""

    user: Any
    row: UserSession | None = None
    ended: bool = False  # a login without its row, or past its age: to be ended
    finished: bool = False


def login_check(request: HttpRequest) -> LoginCheck:
    """The caller's user, valid only while the login is in the registry (reads only)."""
    check: LoginCheck | None = getattr(request, LOGIN_CHECK_ATTRIBUTE, None)
    if check is None:
        user: Any = auth.get_user(request)
        check = LoginCheck(user=user)
        if user.is_authenticated:
            check.row = UserSession.objects.for_session(
                session=api_session(request), user_id=user.pk
            )
            if check.row is None or check.row.is_past_max_age():
                check.user, check.ended = AnonymousUser(), True
        setattr(request, LOGIN_CHECK_ATTRIBUTE, check)
    return check


def login_check_finish(request: HttpRequest) -> None:
    """End a login the check found revoked, or refresh a live one's last-seen (once)."""
    check: LoginCheck | None = getattr(request, LOGIN_CHECK_ATTRIBUTE, None)
    if check is None or check.finished:
        return
    check.finished = True
    if check.ended:
        if check.row is not None:
            check.row.delete()  # past its age: ended like a revocation
        api_session(request).flush()  # also deletes a server-side copy
    elif check.row is not None:
        check.row.touch(request=request, session=api_session(request))


class RegistryAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's ``request.user``, valid only while the login is in the registry."""

    def process_request(self, request: HttpRequest) -> None:
        request.user = SimpleLazyObject(lambda: login_check(request).user)  # type: ignore[assignment]

        async def auser() -> Any:
            return (await sync_to_async(login_check)(request)).user

        request.auser = auser

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        login_check_finish(request)
        return response
