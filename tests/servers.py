"""Real server processes for integration tests: gunicorn on a free port, and HTTP helpers.

Tests that need the service as users run it (several gunicorn workers, real sockets)
start it here instead of going through Django's in-process test client. Every server
gets its own cache namespace and writes its log under this run's LOG_DIR; databases
and queues carry the run id (tests/namespace.py) and are deleted after use.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookies
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from kombu import Connection

from tests.namespace import (  # reachable: bench/ takes it from here too
    LOG_DIR,
    ROOT,
    database_name,
    redis_available,
    service_cache_url,
)

BIN = Path(sys.executable).parent
# Session keys, CSRF tokens and passwords the test clients saw: none may be logged.
SEEN_SECRETS: set[str] = set()


def remember_secret(value: str | None) -> None:
    if value and len(value) >= 8:
        SEEN_SECRETS.add(value)


@dataclass
class LogCheck:
    """What the log check read, and the secrets it found in it."""

    files: list[Path]
    lines: int
    leaked: list[str]


def secrets_in_logs(
    log_dir: Path = LOG_DIR, secrets: Iterable[str | None] = SEEN_SECRETS
) -> LogCheck:
    """Grep every log under ``log_dir`` (this run's logs: the in-process one, and each
    gunicorn's and Celery worker's) for any of ``secrets``."""
    files = sorted(log_dir.rglob("*.log"))
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in files]
    wanted = {secret for secret in secrets if secret}
    leaked = sorted(secret for secret in wanted if any(secret in text for text in texts))
    return LogCheck(files=files, lines=sum(len(text.splitlines()) for text in texts), leaked=leaked)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def inherited_env(drop: tuple[str, ...] = ("PYTEST_",)) -> dict[str, str]:
    """This process's environment minus the variables whose names start with ``drop``.

    What a service child inherits; the benchmark drops more (every setting it fixes
    itself) than the tests do.
    """
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def service_env(**overrides: str) -> dict[str, str]:
    """The environment of a service process: this one's, minus test-run leftovers.

    The service gets a cache namespace of its own (shared by every process started
    with this environment, as instances behind one load balancer share a cache), and
    so never the test process's, which the cache cleaner empties around every test.
    """
    env = inherited_env(drop=("PYTEST_", "TESTS_"))
    env.pop("CACHE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "api_project.settings",
            "DJANGO_SECRET_KEY": "integration-" + "s" * 40,
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "WHITENOISE_USE_FINDERS": "true",
        }
    )
    if redis_available():
        env["CACHE_URL"] = service_cache_url()
    env.update(overrides)
    return env


# Where a live service's tasks go unless the environment names another broker.
DEFAULT_BROKER = "amqp://guest:guest@localhost:5672//"


def sqlite_service_env(folder: Path, *, queue: str, **overrides: str) -> dict[str, str]:
    """``service_env`` over a new, migrated SQLite database in ``folder``, its tasks on
    ``queue`` (RabbitMQ on this host unless CELERY_BROKER_URL says otherwise)."""
    env = service_env(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        **overrides,
    )
    env.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER)
    manage("migrate", "--noinput", env=env)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """``manage.py`` in the repository root; a failure raises CalledProcessError."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def start_process(
    command: list[str],
    *,
    env: dict[str, str],
    log: Path,
    append: bool = False,
    new_session: bool = False,
    cwd: Path = ROOT,
) -> subprocess.Popen:
    """Start a long-running child in ``cwd`` (by default the repository root), its output
    going to ``log``.

    The child keeps its own copy of the log's descriptor, so ours is closed at once.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab" if append else "wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )


def gunicorn_command(port: int, *args: str) -> list[str]:
    """gunicorn with the repository's configuration, as in production, on ``port``.

    Everything else comes from the configuration (and so from ``GUNICORN_*`` in the
    environment) unless ``args`` overrides it.
    """
    return [
        str(BIN / "gunicorn"),
        "-c",
        "api_project/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        *args,
    ]


def wait_until_healthy(
    process: subprocess.Popen,
    base: str,
    *,
    timeout: float = 30,
    path: str = "/healthz",
    name: str = "gunicorn",
) -> None:
    """Poll ``path`` until it answers 200; RuntimeError if the server exits or is late."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if HttpSession(base).request("GET", path)[0] == 200:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start (exit {process.poll()})")
        time.sleep(0.1)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, log: Path | None = None) -> Iterator[str]:
    """Run gunicorn with ``workers`` workers, as configured (ASGI); yield its base URL.

    Its output goes to ``log`` or else to a file in ``LOG_DIR``; either way under
    ``LOG_DIR``, where the log check reads it.
    """
    port = free_port()
    log = log or LOG_DIR / f"gunicorn-{port}-{time.time_ns()}.log"
    if not log.resolve().is_relative_to(LOG_DIR.resolve()):
        raise ValueError(f"{log} is outside {LOG_DIR}: the log check would not read it")
    process = start_process(
        gunicorn_command(port, "--workers", str(workers), "--timeout", "60"),
        env=env,
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base)
        yield base
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen, *, grace: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class HttpSession:
    """A tiny cookie-keeping JSON client over http.client (one browser)."""

    # Sent with every request (a subclass may add to them).
    headers: ClassVar[dict[str, str]] = {"Content-Type": "application/json"}

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
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

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def fetch_csrf(self) -> str:
        status, body, _ = self.request("GET", "/api/v1/auth/csrf/")
        assert status == 200, body
        self.csrf = body["csrf_token"]
        remember_secret(self.csrf)
        return self.csrf


class TcpProxy:
    """A TCP forwarder on a local port that a test can cut and restore.

    Pointing the service at the proxy instead of at PostgreSQL, Redis or RabbitMQ lets a
    fault test take a real dependency away mid-run (every connection is reset and new
    ones are refused) and bring it back, without disturbing the shared servers.
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would not.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                # shutdown() wakes the pump threads blocked in recv(); close() alone
                # would leave the connection open until they return.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.close()


@contextmanager
def celery_worker(
    env: dict[str, str],
    *,
    queue: str,
    name: str,
    app: str = "api_project",
    python: Path | str = sys.executable,
    cwd: Path = ROOT,
    concurrency: int = 2,
) -> Iterator[Path]:
    """Run one Celery worker process (prefork, ``concurrency`` processes) of ``app`` on
    ``queue``; yield its log. ``python`` and ``cwd`` run another project's worker."""
    log = LOG_DIR / f"celery-{name}-{time.time_ns()}.log"
    command = celery_worker_command(
        queue=queue, name=name, app=app, python=python, concurrency=concurrency
    )
    process = start_process(command, env=env, log=log, new_session=True, cwd=cwd)
    try:
        wait_until_ready(process, log, name=name)
        yield log
    finally:
        stop_process(process)


def wait_until_ready(
    process: subprocess.Popen,
    log: Path,
    *,
    name: str,
    ready: str = " ready.",
    timeout: float = 60,
) -> None:
    """Wait until ``process`` writes ``ready`` in ``log`` (a Celery worker's "ready." by
    default); RuntimeError, with the log's end, if it exits first or is late."""
    deadline = time.monotonic() + timeout
    while ready not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} did not start:\n{tail}")
        time.sleep(0.2)


def celery_worker_command(
    *,
    queue: str,
    name: str,
    app: str = "api_project",
    concurrency: int = 2,
    loglevel: str = "INFO",
    extra: tuple[str, ...] = (),
    python: Path | str = sys.executable,
) -> list[str]:
    """A ``celery worker`` on ``queue`` alone, named ``name@host``.

    Gossip and mingle are off: they make a worker talk to its peers at start-up, which
    only slows down these short-lived workers.
    """
    return [
        str(python),
        "-m",
        "celery",
        "-A",
        app,
        "worker",
        "-l",
        loglevel,
        "-c",
        str(concurrency),
        "-Q",
        queue,
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        *extra,
    ]


# The local PostgreSQL server's maintenance database (user postgres, trust).
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_url(name: str, *, port: int = 5432) -> str:
    """The DATABASE_URL of database ``name`` (``port`` may be a proxy in front)."""
    return f"postgres://postgres@127.0.0.1:{port}/{name}"


@contextmanager
def postgres_database(purpose: str) -> Iterator[str]:
    """Create this run's PostgreSQL database for ``purpose``; yield its name; drop it.

    The name carries the run id, so two runs on one server never drop each other's.
    """
    name = database_name(purpose)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        # FORCE: a server or worker of the test may still hold a connection.
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_postgres_database(name: str) -> str:
    """Drop and create a PostgreSQL database on the local server; return its URL.

    For bench/soak.py, which runs alone; the tests use ``postgres_database``.
    """
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return postgres_url(name)


def delete_queue(queue: str, broker: str | None = None) -> None:
    """Delete a queue of the run and its exchange (Celery names it alike) on ``broker``
    (default: the one this process's environment names, as Celery reads it)."""
    url = broker or os.environ.get("CELERY_BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//"
    with Connection(url, connect_timeout=5) as connection:
        channel = connection.default_channel
        channel.queue_delete(queue)
        channel.exchange_delete(queue)
