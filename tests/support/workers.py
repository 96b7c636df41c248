"""The Celery worker and outbox relay a test can kill, the task helpers, and the run's
queues.

``WorkerProcess`` is ``celery -A api_project worker`` in a subprocess (its own process
group, so a test can SIGKILL it with its pool), and ``RelayProcess`` is ``manage.py
tasks_relay`` the same way, both on tests.settings with this run's id
(the same queue, cache prefix and folders as the test process, ``WORKER_ENV``) and the
test database (``TESTS_WORKER_DATABASE_NAME``, see ``tests/settings.py``). Its log goes
to ``tests.servers.LOG_DIR`` with every other log of the run. The fixtures that make
them are in tests/tasks_api/conftest.py; the workers of the servers the tests start are
``tests.servers.celery_worker``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from api_project.celery import app as celery_app
from tasks_api import services
from tests.servers import celery_worker_command, delete_queue, start_process, wait_until_ready
from tests.support.clients import Client
from tests.support.polling import FINAL

__all__ = ["FINAL", "RelayProcess", "WorkerProcess", "broker_at", "deleting_queue", "enqueue"]


class _TestProcess:
    """A child of the test on its database and queue, started, stopped or killed.

    A subclass names its ``command()`` and the log line that says it is ``ready``.
    """

    kind = "process"
    ready = ""

    def __init__(
        self,
        *,
        log_dir: Path,
        mail_dir: Path,
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
        arguments: tuple[str, ...] = (),
    ) -> None:
        self.log_dir = log_dir
        self.arguments = arguments
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

    def command(self, tag: str) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        self.starts += 1
        tag = uuid.uuid4().hex[:8]
        self.log_path = self.log_dir / f"{self.kind}-{tag}.log"
        # Its own session, so kill() and stop() reach its children as a group.
        self.process = start_process(
            self.command(tag), env=self.env(), log=self.log_path, new_session=True
        )
        try:
            wait_until_ready(
                self.process, self.log_path, name=self.kind, ready=self.ready, timeout=timeout
            )
        except RuntimeError as error:
            self.stop()
            raise AssertionError(str(error)) from None

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the process and its children at once, as an OOM killer would."""
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


class WorkerProcess(_TestProcess):
    """One ``celery worker`` subprocess (prefork, ``concurrency`` processes)."""

    kind = "celery-worker"
    ready = " ready."

    def command(self, tag: str) -> list[str]:
        return celery_worker_command(
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            name=f"tests-{tag}",
            concurrency=self.concurrency,
            extra=("--pool=prefork", "--without-heartbeat"),
        )


class RelayProcess(_TestProcess):
    """One ``manage.py tasks_relay`` subprocess: publishes the test database's outbox."""

    kind = "tasks-relay"
    ready = "Outbox relay started."

    def command(self, tag: str) -> list[str]:
        return [sys.executable, "manage.py", "tasks_relay", *self.arguments]


def enqueue(client: Client, name: str, args: dict[str, Any] | None = None, **extra: Any):
    body: dict[str, Any] = {"name": name, "args": args or {}}
    headers = extra.pop("headers", {})
    body.update(extra)
    return client.send("POST", "/api/v1/tasks/", body, **headers)


@contextmanager
def broker_at(
    url: str, monkeypatch: pytest.MonkeyPatch, transport_options: dict[str, Any] | None = None
) -> Iterator[None]:
    """Point this process's Celery app at another broker URL, fresh pools included.

    The block ends once the fast path has done what the block's requests handed it, so
    that none of their messages reaches the real broker after the block.
    """

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
            services.fast_path_flush(timeout=60)
            reset_pools()
    reset_pools()


@contextmanager
def deleting_queue(queue: str, broker: str | None = None, *, best_effort: bool = False):
    """Delete ``queue`` (and its exchange) from ``broker`` when the block ends, however
    it ends; ``best_effort`` swallows a broker that cannot be reached by then (an empty
    queue left behind harms nothing, and expires)."""
    try:
        yield queue
    finally:
        if best_effort:
            with contextlib.suppress(Exception):
                delete_queue(queue, broker)
        else:
            delete_queue(queue, broker)
