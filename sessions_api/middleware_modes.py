"""A middleware base that Django may call synchronously or asynchronously.

Django's ``MiddlewareMixin`` supports both modes too, but under ASGI it runs each hook
through ``sync_to_async``: a thread hop per middleware per request, and a thread held
beside every open event stream. A subclass of ``SyncOrAsyncMiddleware`` instead says
what to do in each mode itself: ``call()`` (synchronous) and ``__acall__()``
(asynchronous, awaiting ``get_response``). It imports no model, so the guards can use
it whether or not the apps' models are installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse


class SyncOrAsyncMiddleware:
    """Calls ``call()`` under a synchronous chain, ``__acall__()`` under an asynchronous one."""

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
        return self.call(request)

    def call(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError
