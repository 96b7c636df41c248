"""The serving model's own parts: the ASGI-to-WSGI environ, the pinned copy of
uvicorn-worker's ``_serve()`` (api_project/asgi_worker.py), and WhiteNoise in either
of Django's middleware modes (api_project/middleware.py)."""

from __future__ import annotations

import asyncio
import inspect
import textwrap

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from uvicorn_worker import UvicornWorker as BaseUvicornWorker

from api_project.asgi_worker import UvicornWorker
from api_project.middleware import WhiteNoiseMiddleware
from api_project.serving import wsgi_environ

# uvicorn-worker 0.4.0's _serve(), which api_project.asgi_worker copies with its Server.
UPSTREAM_SERVE = """
async def _serve(self) -> None:
    self.config.app = self.wsgi
    server = Server(config=self.config)
    self._install_sigquit_handler()
    await server.serve(sockets=self.sockets)
    if not server.started:
        sys.exit(Arbiter.WORKER_BOOT_ERROR)
"""


def test_the_copied_serve_is_still_uvicorn_workers_own():
    upstream = textwrap.dedent(inspect.getsource(BaseUvicornWorker._serve))
    assert upstream.strip() == UPSTREAM_SERVE.strip(), (
        "uvicorn-worker's _serve() changed: update api_project/asgi_worker.py to match"
    )
    ours = textwrap.dedent(inspect.getsource(UvicornWorker._serve))
    for line in UPSTREAM_SERVE.strip().splitlines()[1:]:
        assert line.strip() in ours


def test_the_environ_is_what_gunicorn_would_give_django():
    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/api/v1/session/keys/caf\u00e9/",
        "root_path": "",
        "query_string": b"a=1&b=%20",
        "http_version": "1.1",
        "scheme": "https",
        "server": ("127.0.0.1", 8000),
        "client": ("10.0.0.7", 51515),
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"11"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x-forwarded-for", b"1.1.1.1"),
            (b"x-forwarded-for", b"2.2.2.2"),
        ],
    }
    environ = wsgi_environ(scope, b'{"value":1}')
    assert environ["REQUEST_METHOD"] == "PUT"
    assert environ["PATH_INFO"] == "/api/v1/session/keys/caf\u00e9/".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "11"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.1.1.1,2.2.2.2"
    assert environ["REMOTE_ADDR"] == "10.0.0.7"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["wsgi.input"].read() == b'{"value":1}'
    assert "HTTP_CONTENT_TYPE" not in environ


def test_whitenoise_serves_a_static_file_and_passes_the_rest_on_in_either_mode():
    passed: list[str] = []

    def sync_next(request: HttpRequest) -> HttpResponse:
        passed.append(request.path)
        return HttpResponse("next")

    async def async_next(request: HttpRequest) -> HttpResponse:
        return sync_next(request)

    synchronous, asynchronous = WhiteNoiseMiddleware(sync_next), WhiteNoiseMiddleware(async_next)
    assert (synchronous.is_async, asynchronous.is_async) == (False, True)
    factory = RequestFactory()
    for response in (
        synchronous(factory.get("/static/console/console.js")),
        asyncio.run(asynchronous(factory.get("/static/console/console.js"))),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
    assert passed == []
    assert synchronous(factory.get("/api/v1/session/")).content == b"next"
    assert asyncio.run(asynchronous(factory.get("/api/v1/session/"))).content == b"next"
    assert passed == ["/api/v1/session/"] * 2
