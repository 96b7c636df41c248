"""Real server processes for integration tests: gunicorn on a free port, and HTTP helpers.

Tests that need the service as users run it (several gunicorn workers, real sockets)
start it here instead of going through Django's in-process test client.
"""

from __future__ import annotations

import http.client
import http.cookies
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Every log of the test run lands here, and tests/test_zz_logs.py greps it for secrets.
LOG_DIR = ROOT / "test-artifacts" / "logs"
# Session keys, CSRF tokens and passwords the test clients saw: none may be logged.
SEEN_SECRETS: set[str] = set()


def remember_secret(value: str | None) -> None:
    if value and len(value) >= 8:
        SEEN_SECRETS.add(value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(**overrides: str) -> dict[str, str]:
    """The environment of a service process: this one's, minus test-run leftovers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "api_project.settings",
            "DJANGO_SECRET_KEY": "integration-" + "s" * 40,
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "WHITENOISE_USE_FINDERS": "true",
        }
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, log: Path | None = None) -> Iterator[str]:
    """Run gunicorn with ``workers`` sync workers; yield its base URL.

    Its output goes to ``log`` or else to a file in ``LOG_DIR``.
    """
    port = free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = log or LOG_DIR / f"gunicorn-{port}-{time.time_ns()}.log"
    out = open(log, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "api_project.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if HttpSession(base).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start (exit {process.poll()})")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        out.close()


class HttpSession:
    """A tiny cookie-keeping JSON client over http.client (one browser)."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        data = None if body is None else json.dumps(body)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    remember_secret(morsel.value)
                    if morsel.value:
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            content = (
                json.loads(raw)
                if raw and b"json" in (response.getheader("Content-Type") or "").encode()
                else raw
            )
            return response.status, content, response.headers
        finally:
            conn.close()

    def fetch_csrf(self) -> str:
        status, body, _ = self.request("GET", "/api/v1/auth/csrf/")
        assert status == 200, body
        self.csrf = body["csrf_token"]
        remember_secret(self.csrf)
        return self.csrf
