"""Request logging: one line per request, a request id, plain or JSON.

``RequestLogMiddleware`` gives every request an id (the caller's ``X-Request-ID`` when
it is a sane token, else a new one), returns it as a response header, makes it
available to every log record of the request (and to task records, via
``current_request_id()``), and logs one line when the response is ready: method, path
(never the query string), status, duration, request id and user id. Nothing here logs
cookies, headers or bodies, so no session key, CSRF token or password can reach a log.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse

from sessions_api.middleware_modes import SyncOrAsyncMiddleware

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

logger = logging.getLogger("sessions_api.request")

# Where RegistryAuthenticationMiddleware keeps what it found once a view asked who the
# user is; the log line takes the user id from there, so logging costs no query.
LOGIN_CHECK_ATTRIBUTE = "sessions_api_login"


def current_request_id() -> str | None:
    """The id of the request being served in this thread, if any."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or "-"
        return True


# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators:
# everything a log reader may take for the end of a line, or a terminal for a command.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """``text`` with each control character written as its escape (``\\r``, ``\\x1b``)."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


class PlainFormatter(logging.Formatter):
    """The plain text format, one line per record, whatever a request put in it.

    A request path, or any other text a client chose, may hold a CR/LF (``%0d%0a``) or
    a terminal escape: written as is, it would start a forged line. The message is
    written with its control characters escaped; a traceback below it stays as it is.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request fields when a record has them."""

    FIELDS = ("method", "path", "status", "duration_ms", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestLogMiddleware(SyncOrAsyncMiddleware):
    """Outermost middleware: request id in, one log line and the id header out.

    Synchronous and asynchronous alike (Django picks the mode), so that under ASGI an
    asynchronous view (the event stream) is not run in a thread on its behalf.
    """

    def call(self, request: HttpRequest) -> HttpResponse:
        token, started = self._begin(request)
        try:
            return self._end(request, self.get_response(request), started)
        finally:
            _request_id.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        token, started = self._begin(request)
        try:
            return self._end(request, await self.get_response(request), started)
        finally:
            _request_id.reset(token)

    def _begin(self, request: HttpRequest) -> tuple[contextvars.Token[str | None], float]:
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if _VALID_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        return _request_id.set(request_id), time.perf_counter()

    def _end(self, request: HttpRequest, response: HttpResponse, started: float) -> HttpResponse:
        request_id = request.request_id  # type: ignore[attr-defined]
        response[REQUEST_ID_HEADER] = request_id
        duration = (time.perf_counter() - started) * 1000
        # Only if the view asked who the user is (RegistryAuthenticationMiddleware keeps
        # the answer there): logging must not cost a query, or fail with the database.
        check = getattr(request, LOGIN_CHECK_ATTRIBUTE, None)
        user = check.user if check is not None else None
        user_id = user.pk if user is not None and user.is_authenticated else None
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            duration,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(duration, 1),
                "user_id": user_id,
            },
        )
        return response
