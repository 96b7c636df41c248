"""Django's HTML login forms under the API's failed-login throttles (the admin's, say).

A project wires the admin in two lines of its URLconf::

    admin.site.login_form = ThrottledAdminAuthenticationForm
    urlpatterns = [
        path("admin/login/", throttled_login_view(admin.site.login)),
        path("admin/", admin.site.urls),
        ...
    ]

The form counts each attempt in the same buckets as ``POST /api/v1/auth/login/``
(sessions_api/throttling.py) before the password is checked, and refuses a throttled
one with a message; the view wrapper answers that refusal ``429`` with ``Retry-After``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from rest_framework import status

from sessions_api.errors import LoginThrottled
from sessions_api.throttling import login_attempt_reserve


class ThrottledAuthenticationForm(AuthenticationForm):
    """``AuthenticationForm`` whose failures count against the login throttles."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed logins. Try again in %(seconds)s seconds.",
    }

    # Seconds until the throttle has room, when this attempt was throttled.
    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()  # nothing is checked, so nothing counts
        try:
            with login_attempt_reserve(request=self.request, username=username) as attempt:
                try:
                    return super().clean()
                except forms.ValidationError:
                    # No user: the credentials were wrong. A user refused afterwards
                    # (inactive, not staff) gave the right password, which is no guess.
                    if self.get_user() is None:
                        attempt.failed()
                    raise
        except LoginThrottled as throttled:
            self.retry_after = int(throttled.wait or 1)
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"seconds": self.retry_after},
            ) from None


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin's login form (staff only), under the login throttles."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": ThrottledAuthenticationForm.error_messages["throttled"],
    }


def throttled_login_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a login view whose form is a ``ThrottledAuthenticationForm``: a throttled
    attempt is answered ``429 Too Many Requests`` with ``Retry-After``, the form and its
    message still shown."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, TemplateResponse) and response.context_data:
            form = response.context_data.get("form")
            if isinstance(form, ThrottledAuthenticationForm) and form.retry_after is not None:
                response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
                response["Retry-After"] = str(form.retry_after)
        return response

    return wrapped
