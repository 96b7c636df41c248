"""Request guards that must run before any view reads the body, and the API's headers.

Its own module, importing no model, so a project can use it whether or not the apps'
models are installed.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from sessions_api.errors import RequestTooLarge
from sessions_api.middleware_modes import SyncOrAsyncMiddleware
from sessions_api.problems import django_problem


class ApiRequestGuardMiddleware(SyncOrAsyncMiddleware):
    """Refuse an oversized API body up front with ``413 request_too_large``, and mark
    every API response ``Cache-Control: no-store``.

    Django enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when ``request.body`` or
    ``request.POST`` is read; DRF's JSON parser streams the body and never checks it.
    Checking the declared length here covers every view and answers before anything
    (the session included) is touched.

    API responses are the caller's own (session data, tasks, CSRF tokens), errors
    included: no browser or shared cache may keep one. Set here, the header is on every
    response under ``/api/``, whatever answered: a view, DRF's or Django's error
    handlers, the CSRF check, a throttle, a 404 of an unknown path, or this guard.
    """

    def call(self, request: HttpRequest) -> HttpResponse:
        refused = self.refusal(request)
        response = refused if refused is not None else self.get_response(request)
        return self.finish(request, response)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refused = self.refusal(request)
        response = refused if refused is not None else await self.get_response(request)
        return self.finish(request, response)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        """The 413 for an API request whose declared body is over the limit, or None."""
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
        return None

    @staticmethod
    def finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Every API answer is per caller: no cache may keep it."""
        if request.path.startswith("/api/"):
            patch_cache_control(response, no_store=True)
        return response
