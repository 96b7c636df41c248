"""Fixtures for the task tests: a real Celery worker process and HTTP helpers.

The worker is ``celery -A api_project worker`` in a subprocess (its own process group,
so a test can SIGKILL it with its pool), on tests.settings with this run's id
(``TESTS_RUN_ID``: the same queue, cache prefix and folders as the test process) and
the test database (``TESTS_WORKER_DATABASE_NAME``, see ``tests/settings.py``). Its log
goes to ``tests.servers.LOG_DIR`` with every other log of the run.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from api_project.celery import app as celery_app
from tasks_api import broker
from tests.conftest import Client, need
from tests.factories import PASSWORD
from tests.namespace import rabbitmq_available
from tests.servers import LOG_DIR, celery_worker_command, delete_queue, start_process
from tests.sessions_api.test_auth import login

FINAL = {"SUCCESS", "FAILURE", "REVOKED"}
BASE_DIR = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """One ``celery worker`` subprocess, started and stopped (or killed) by a test."""

    def __init__(
        self,
        *,
        log_dir: Path,
        mail_dir: Path,
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.mail_dir = mail_dir
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(settings.WORKER_ENV)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            TESTS_WORKER_DATABASE_NAME=str(connection.settings_dict["NAME"]),
            EMAIL_URL=f"filemail:///{self.mail_dir}",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> None:
        self.starts += 1
        tag = uuid.uuid4().hex[:8]
        self.log_path = self.log_dir / f"celery-worker-{tag}.log"
        command = celery_worker_command(
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            name=f"tests-{tag}",
            concurrency=self.concurrency,
            extra=("--pool=prefork", "--without-heartbeat"),
        )
        # Its own session, so kill() and stop() reach the pool processes as a group.
        self.process = start_process(command, env=self.env(), log=self.log_path, new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"The worker did not start:\n{self.log()[-3000:]}")

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as an OOM killer would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.process = None


@pytest.fixture(scope="session")
def _test_queue() -> Iterator[str]:
    """This run's queue; deleted (with its exchange) when the run ends."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    yield queue
    if not rabbitmq_available():
        return
    delete_queue(queue, settings.CELERY_BROKER_URL)


@pytest.fixture(scope="module")
def worker_factory(
    django_db_setup: None, _test_queue: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., WorkerProcess]]:
    """Make worker processes; every one still running is stopped with the module.

    Workers use RabbitMQ unless ``extra_env`` names another broker.
    """
    made: list[WorkerProcess] = []

    def make(*, concurrency: int = 2, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        if "CELERY_BROKER_URL" not in (extra_env or {}):
            need(rabbitmq_available(), "RabbitMQ at 127.0.0.1:5672")
        mail = tmp_path_factory.mktemp("mail")
        worker = WorkerProcess(
            log_dir=LOG_DIR, mail_dir=mail, concurrency=concurrency, extra_env=extra_env
        )
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


@pytest.fixture(scope="module")
def worker(worker_factory: Callable[..., WorkerProcess]) -> WorkerProcess:
    """A running worker shared by the tests of one module."""
    process = worker_factory(concurrency=2)
    process.start()
    return process


@pytest.fixture
def api(transactional_db: None, _test_queue: str) -> Client:
    """An anonymous browser: CSRF token fetched, cookies kept (and the run's queue
    deleted at the end, whatever its tests published)."""
    client = Client()
    client.csrf()
    return client


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The broker's stand-in for unit tests: each publish is recorded, nothing is sent."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(broker, "publish", lambda **kwargs: calls.append(kwargs))
    return calls


@pytest.fixture
def make_user(transactional_db: None) -> Callable[..., Any]:
    def make(username: str | None = None, *, is_staff: bool = False) -> Any:
        return get_user_model().objects.create_user(
            username=username or f"user-{uuid.uuid4().hex[:8]}",
            email="someone@example.com",
            password=PASSWORD,
            is_staff=is_staff,
        )

    return make


@pytest.fixture
def user_api(make_user: Callable[..., Any]) -> Callable[..., Client]:
    """A browser logged in as a (new or given) user, through ``POST /api/v1/auth/login/``
    as a browser logs in (CSRF token, new session key, ``user_logged_in``)."""

    def build(user: Any = None, *, is_staff: bool = False) -> Client:
        client = Client()
        client.csrf()
        login(client, user or make_user(is_staff=is_staff))
        return client

    return build


def enqueue(client: Client, name: str, args: dict[str, Any] | None = None, **extra: Any):
    body: dict[str, Any] = {"name": name, "args": args or {}}
    headers = extra.pop("headers", {})
    body.update(extra)
    return client.send("POST", "/api/v1/tasks/", body, **headers)


def wait_for(
    client: Client,
    task_id: str,
    until: Callable[[dict[str, Any]], bool] = lambda task: task["status"] in FINAL,
    timeout: float = 20.0,
    seen: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Poll ``GET /api/v1/tasks/{id}/`` until ``until(task)``; every answer is 200."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/tasks/{task_id}/")
        assert response.status_code == 200, response.content
        task = response.json()
        if seen is not None:
            seen.append(task)
        if until(task):
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"Task {task_id} never got there; last seen: {task}")
        time.sleep(0.05)


def setting_in_fresh_process(name: str, *, cwd: Path = BASE_DIR, **env: str) -> Any:
    """A setting as ``api_project.settings`` (the one in ``cwd``) computes it under
    ``env`` (as JSON)."""
    code = f"import json, api_project.settings as s; print(json.dumps(s.{name}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def cancel_queued(client: Client, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Cancel a task that has not started, then wait until a worker has dropped it.

    The cancel answers ``REVOKED`` at once; the worker's own ``REVOKED`` result shows
    it saw the message and did not run it. Returns the task as polled afterwards.
    """
    response = client.send("POST", f"/api/v1/tasks/{task_id}/cancel/")
    assert response.status_code == 202, response.content
    cancelled = response.json()
    assert cancelled["status"] == "REVOKED"
    assert cancelled["finished_at"] is not None and cancelled["started_at"] is None
    return wait_until_dropped(client, task_id, timeout=timeout)


def wait_until_dropped(client: Client, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Wait until a worker has seen a cancelled task's message and not run it (its own
    ``REVOKED`` result); return the task as polled afterwards."""
    from django_celery_results.models import TaskResult

    deadline = time.monotonic() + timeout
    while not TaskResult.objects.filter(task_id=task_id, status="REVOKED").exists():
        assert time.monotonic() < deadline, "no worker dropped the cancelled task"
        time.sleep(0.1)
    after = wait_for(client, task_id)
    assert after["status"] == "REVOKED"
    assert after["started_at"] is None and after["result"] is None
    return after


@contextmanager
def broker_at(
    url: str, monkeypatch: pytest.MonkeyPatch, transport_options: dict[str, Any] | None = None
) -> Iterator[None]:
    """Point this process's Celery app at another broker URL, fresh pools included."""

    def reset_pools() -> None:
        # Forget, not close: kombu keeps pools per connection URL process-wide and hands
        # the same one back for the same URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    with monkeypatch.context() as patch:
        # Celery reads CELERY_BROKER_URL from the environment before its configuration,
        # and this app's configuration keys carry the CELERY_ namespace.
        patch.setenv("CELERY_BROKER_URL", url)
        patch.setitem(celery_app.conf, "CELERY_BROKER_URL", url)
        if transport_options is not None:
            patch.setitem(celery_app.conf, "CELERY_BROKER_TRANSPORT_OPTIONS", transport_options)
        reset_pools()
        try:
            yield
        finally:
            reset_pools()
    reset_pools()
