"""Who the caller is, checked against the session registry on every request."""

from __future__ import annotations

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sessions_api.registry import user_session_check


def _registered_user(request: HttpRequest):
    if not hasattr(request, "_cached_user"):
        user = auth.get_user(request)
        if user.is_authenticated and not user_session_check(request=request, user_id=user.pk):
            # Logged out, revoked, or its password changed elsewhere: whatever the
            # cookie says, this login is over. Flushing also deletes a server-side copy.
            request.session.flush()
            user = AnonymousUser()
        request._cached_user = user
    return request._cached_user


class RegistryAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's ``request.user``, valid only while the login is in the registry.

    The check runs lazily, when something asks who the user is (every API view does),
    and costs one indexed query for logged-in sessions and nothing for anonymous ones.
    """

    def process_request(self, request: HttpRequest) -> None:
        request.user = SimpleLazyObject(lambda: _registered_user(request))
