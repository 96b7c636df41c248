"""Fixtures for the task tests: real Celery worker and outbox relay processes,
browsers, users.

The workers are ``tests.support.workers.WorkerProcess`` and the relays
``RelayProcess``: killable, on this run's queue and test database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tasks_api import broker
from tests.factories import PASSWORD
from tests.namespace import rabbitmq_available
from tests.servers import LOG_DIR, delete_queue
from tests.support.api import login
from tests.support.clients import Client
from tests.support.workers import RelayProcess, WorkerProcess


@pytest.fixture(scope="session")
def _test_queue() -> Iterator[str]:
    """This run's queue; deleted (with its exchange) when the run ends."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    yield queue
    if not rabbitmq_available():
        return
    delete_queue(queue, settings.CELERY_BROKER_URL)


_Process = TypeVar("_Process", WorkerProcess, RelayProcess)


@contextmanager
def _processes(
    kind: type[_Process], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[..., _Process]]:
    """A maker of ``kind`` processes (on RabbitMQ unless ``extra_env`` names another
    broker); every one still running is stopped when the block ends."""
    made: list[_Process] = []

    def make(*, extra_env: dict[str, str] | None = None, **options: Any) -> _Process:
        if "CELERY_BROKER_URL" not in (extra_env or {}):
            request.getfixturevalue("rabbitmq_server")
        process = kind(
            log_dir=LOG_DIR,
            mail_dir=tmp_path_factory.mktemp("mail"),
            extra_env=extra_env,
            **options,
        )
        made.append(process)
        return process

    try:
        yield make
    finally:
        for process in made:
            process.stop()


@pytest.fixture(scope="module")
def worker_factory(
    django_db_setup: None,
    _test_queue: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., WorkerProcess]]:
    """Make worker processes (``concurrency``, ``extra_env``); every one still running is
    stopped with the module."""
    with _processes(WorkerProcess, tmp_path_factory, request) as make:
        yield make


@pytest.fixture(scope="module")
def worker(worker_factory: Callable[..., WorkerProcess]) -> WorkerProcess:
    """A running worker shared by the tests of one module."""
    process = worker_factory(concurrency=2)
    process.start()
    return process


@pytest.fixture(scope="module")
def relay_factory(
    django_db_setup: None,
    _test_queue: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., RelayProcess]]:
    """Make outbox relay processes (``extra_env``; ``arguments`` for ``manage.py
    tasks_relay``, e.g. ``--batch-size``); every one still running is stopped with the
    module."""
    with _processes(RelayProcess, tmp_path_factory, request) as make:
        yield make


@pytest.fixture(scope="module")
def relay(relay_factory: Callable[..., RelayProcess]) -> RelayProcess:
    """A running outbox relay shared by the tests of one module (scheduled tasks, and
    what the broker did not take, reach the worker through it)."""
    process = relay_factory()
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
    """The broker's stand-in for unit tests: each publish is recorded, nothing is sent.

    Each call is recorded as its keyword arguments: ``name``, ``task_id``, ``kwargs``.
    """
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
