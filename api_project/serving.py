"""How one ASGI application serves both kinds of request: streams and everything else.

Under Django's ASGI handler a synchronous view costs a thread hop per middleware
(``MiddlewareMixin`` runs each hook through ``sync_to_async``) and a thread per request:
measured here, the session API's CPU per request more than doubled against gunicorn's
sync worker. So ``ApiApplication`` sends only the event streams (``stream_paths``) to
Django's ASGI handler, where their asynchronous view runs on the event loop, and every
other request to Django's WSGI handler, run whole in a thread of a small pool
(``GUNICORN_THREADS`` threads, 1 by default: one request at a time per process, as
with the sync worker). That costs one hop to the pool and back per request, and the
request runs exactly as under WSGI: the same middleware, views, transactions and
database connections (persistent, one per pool thread).

The streams' handler runs its synchronous parts (middleware, the session and registry
reads before a stream starts) on asgiref's one thread per process instead of a thread
per request (Django's ``ThreadSensitiveContext``): a thread per request would be a
thread parked beside every open stream for as long as it stays open.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class StreamHandler(ASGIHandler):
    """Django's ASGI handler, its synchronous parts on one thread per process."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


def wsgi_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP request (``body`` read in full)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        # WSGI carries the decoded path as bytes in a latin-1 str.
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0] if client else "",
        "REMOTE_PORT": str(client[1]) if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        if key in environ:
            # Repeated headers are one, comma-joined (cookies: "; ", RFC 6265).
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


class ApiApplication:
    """The ASGI application: streams on the event loop, the rest on WSGI in a thread."""

    def __init__(
        self,
        *,
        streams: Callable[[Scope, Receive, Send], Awaitable[None]],
        wsgi: WSGIHandler,
        stream_paths: Iterable[str],
        unparsable: bytes = b"",
        threads: int = 1,
    ) -> None:
        self.streams = streams
        # The body of the answer to a request the server cannot parse (the worker's
        # protocol sends it; no application sees such a request).
        self.unparsable = unparsable
        self.wsgi = wsgi
        self.stream_paths = frozenset(stream_paths)
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None

    def executor(self) -> ThreadPoolExecutor:
        # Made on first use, so in the worker process (after gunicorn's fork).
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="wsgi")
        return self._executor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http" or scope["path"] in self.stream_paths:
            await self.streams(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before sending its whole request
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        environ = wsgi_environ(scope, bytes(body))
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.executor(), self._run, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _run(self, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """One request through Django's WSGI handler, in a pool thread, read in full."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            started[:] = [status, headers]
            return lambda data: None  # the write() callable; Django never uses it

        result = self.wsgi(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            # Django's request_finished (closes stale database connections) runs here,
            # in the thread whose connections they are.
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return (
            int(status.split(" ", 1)[0]),
            [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            content,
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._executor is not None:
                    self._executor.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return
