"""The gunicorn worker class: uvicorn's, ending open event streams on a graceful stop.

``uvicorn_worker.UvicornWorker`` runs the ASGI application on an event loop in each
gunicorn worker process. On SIGTERM (a stop) or a HUP's replacement of workers, uvicorn
stops accepting connections and waits for open responses to finish; an event stream
never finishes by itself, so ``Server.shutdown`` here first ends every open stream of
the process (``sessions_api.events.hub.streams_drain``): each response ends cleanly and
its client reconnects, with its ``Last-Event-ID``, to a worker that is running.

uvicorn-worker builds its ``uvicorn.Server`` inside ``_serve()``, which has no public
hook; this module copies that method (uvicorn-worker 0.4.0) with our ``Server``, and
``tests/api_project/test_asgi.py`` fails if the original changes.

A request that is not valid HTTP (a header value with a control character, say) never
reaches Django: uvicorn's httptools protocol answers it ``400`` itself, in plain text.
``HttpProtocol`` keeps that answer (the request cannot be read, so there is nothing to
hand to the application) but makes it the API's problem document, code ``parse_error``,
as Django's own ``400`` handler would. This is the one module that relies on uvicorn's
internals (uvicorn 0.54): the protocol class and its ``send_400_response``.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from gunicorn.arbiter import Arbiter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker as BaseUvicornWorker

from api_project.serving import ApiApplication
from sessions_api.events.hub import streams_drain


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; what it cannot parse gets a problem document."""

    # The application's problem document for it (``ApiApplication.unparsable``), set by
    # the worker once the application is loaded: building it needs Django's settings,
    # which gunicorn's master, importing this module, must not read.
    problem: bytes = b""

    def send_400_response(self, msg: str) -> None:
        if not self.problem:
            super().send_400_response(msg)
            return
        body = self.problem
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/problem+json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"cache-control: no-store\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()


class Server(uvicorn.Server):
    """uvicorn's server, ending the process's event streams before it waits for them."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        streams_drain()
        await super().shutdown(sockets=sockets)


class UvicornWorker(BaseUvicornWorker):
    """uvicorn's gunicorn worker (uvloop and httptools), with ``Server`` and
    ``HttpProtocol`` above, and no proxy headers read by the server."""

    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "uvloop",
        "http": HttpProtocol,
        "lifespan": "off",
        # uvicorn's proxy headers would take the client address from X-Forwarded-For
        # of any FORWARDED_ALLOW_IPS peer (127.0.0.1 by default), under the throttles'
        # and the device list's feet; the application decides that (TRUSTED_PROXY_COUNT),
        # and the scheme (SECURE_PROXY_SSL_HEADER), as under either interface.
        "proxy_headers": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Before gunicorn's graceful timeout kills the process: whatever still runs
        # then is cancelled by uvicorn, so the worker exits on its own.
        self.config.timeout_graceful_shutdown = max(1, self.cfg.graceful_timeout - 2)
        # The application logs one line per request itself (sessions_api.request_log);
        # uvicorn's access line (its own format, not access_log_format) only when
        # GUNICORN_ACCESS_LOG asks for one, and otherwise no record per request at all.
        self.config.access_log = bool(self.cfg.accesslog)

    async def _serve(self) -> None:
        if isinstance(self.wsgi, ApiApplication):
            # The pool that runs synchronous requests: GUNICORN_THREADS threads.
            self.wsgi.threads = self.cfg.threads
            HttpProtocol.problem = self.wsgi.unparsable
        self.config.app = self.wsgi
        server = Server(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
