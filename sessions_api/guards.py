"""Request guards that must run before any view reads the body.

Its own module, importing no model, so a project can use it whether or not the apps'
models are installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sessions_api.errors import RequestTooLarge
from sessions_api.problems import django_problem


class ApiRequestGuardMiddleware:
    """Refuse an oversized API body up front with ``413 request_too_large``.

    Django enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when ``request.body`` or
    ``request.POST`` is read; DRF's JSON parser streams the body and never checks it.
    Checking the declared length here covers every view and answers before anything
    (the session included) is touched.
    """

    # Synchronous and asynchronous alike: under ASGI an asynchronous view (the event
    # stream) is not run in a thread on its behalf.
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        refused = self.refusal(request)
        return refused if refused is not None else self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refused = self.refusal(request)
        return refused if refused is not None else await self.get_response(request)

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
