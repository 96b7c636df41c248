"""Session authentication that checks CSRF for every caller, anonymous ones too.

DRF's ``SessionAuthentication`` checks CSRF only once a user is logged in, but every
unsafe call here acts on the caller's session cookie (writing keys, changing expiry,
logging in), so a forged cross-site request could change an anonymous session as well.
Authentication runs before permissions and throttles in DRF, so this also puts the CSRF
check first, as the contract asks.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import CSRFCheck, SessionAuthentication
from rest_framework.request import Request, is_form_media_type

from sessions_api.drf_internals import django_request
from sessions_api.errors import CsrfFailed


def _no_response(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("CSRFCheck is used for its checks only, never as a middleware.")


# Stateless, like the CsrfViewMiddleware instance Django shares between requests.
_CSRF_CHECK = CSRFCheck(_no_response)


class CsrfSessionAuthentication(SessionAuthentication):
    """Django session login, with the CSRF check applied to all unsafe methods."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        # Django's CsrfViewMiddleware accepts these methods without looking at a token.
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            self.enforce_csrf(request)
        user = getattr(django_request(request), "user", None)
        if not user or not user.is_active:
            return None
        return (user, None)

    def enforce_csrf(self, request: Request) -> None:
        # On a POST the check also looks for a form field token in ``request.POST``. On
        # DRF's Request that parses the body, so a malformed JSON body was answered 400
        # before the 403 it deserves. Django's own request leaves a non-form body unread
        # (its POST is empty), and costs no proxying; form bodies keep DRF's Request,
        # whose parsing answers them 415 as before.
        target: Any = (
            request if is_form_media_type(request.content_type) else django_request(request)
        )
        # Populates META["CSRF_COOKIE"], which process_view() compares against;
        # CsrfViewMiddleware has already done so for any request that went through it.
        if "CSRF_COOKIE" not in target.META:
            _CSRF_CHECK.process_request(target)
        reason = _CSRF_CHECK.process_view(target, _no_response, (), {})
        if reason:
            raise CsrfFailed(f"CSRF failed: {reason}")
