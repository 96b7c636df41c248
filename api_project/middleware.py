"""Third-party middleware made usable under ASGI without a thread per request.

Django runs a middleware that cannot be asynchronous, and everything inside it, in a
thread: for an open event stream that would be a thread held for its whole life.
WhiteNoise's middleware is synchronous only; this one serves static files the same
way and passes every other request on in the mode Django calls it in
(``sessions_api.middleware_modes``).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware as SyncWhiteNoiseMiddleware

from sessions_api.middleware_modes import SyncOrAsyncMiddleware


class WhiteNoiseMiddleware(SyncOrAsyncMiddleware, SyncWhiteNoiseMiddleware):
    """WhiteNoise, synchronous and asynchronous alike."""

    def __init__(self, get_response: Any = None, **kwargs: Any) -> None:
        SyncWhiteNoiseMiddleware.__init__(self, get_response, **kwargs)  # its files
        SyncOrAsyncMiddleware.__init__(self, get_response)  # the mode

    def call(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = SyncWhiteNoiseMiddleware.__call__(self, request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        # What WhiteNoiseMiddleware.__call__ does, with the file served in a thread.
        if self.autorefresh:
            static_file = self.find_file(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            response: HttpResponse = await sync_to_async(self.serve)(static_file, request)
            return response
        return await self.get_response(request)
