"""Shared fixtures: an API client that speaks CSRF, and the five session engines.

Also the run's bookkeeping: its log file, the check that no log of the run holds a
secret, and the cleanup of what the run made (tests/namespace.py) when it ends.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from sessions_api.engines import ENGINE_MODULES as SESSION_ENGINES
from tasks_api import broker, services
from tests.namespace import (
    KEY_PREFIX,
    LOG_DIR,
    OWNS_RUN,
    TEMP_DIR,
    delete_cache_keys,
    postgres_available,
    rabbitmq_available,
    redis_available,
)
from tests.servers import LogCheck, secrets_in_logs
from tests.settings import REDIS_AVAILABLE
from tests.support.clients import Client, clear_run_cache, need
from tests.support.engines import CACHE_ENGINES, parametrizes, selected_engines

# The in-process log file's handler, and what the run's log check found.
_RUN_LOG: logging.Handler | None = None
_LOG_CHECK: LogCheck | None = None
_EXIT_STATUS: int | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Keep every log record of the run in a file, for the secrets check at the end."""
    global _RUN_LOG
    from sessions_api.request_log import RequestIdFilter

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(LOG_DIR / "pytest.log", mode="w", encoding="utf-8")
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    logging.getLogger().addHandler(handler)
    _RUN_LOG = handler


@pytest.fixture(scope="session", autouse=True)
def _no_secret_in_any_log() -> Iterator[None]:
    """After the last test: no log line of the run holds a session key, CSRF token or
    password that a test client saw (tests/servers.py: SEEN_SECRETS).

    The teardown of the first fixture set up runs last, once every server and worker of
    the run has stopped and written its log, whichever tests ran and in what order. A
    leak fails the run (an error at the last test's teardown).
    """
    global _LOG_CHECK
    yield
    if _RUN_LOG is not None:
        _RUN_LOG.flush()
    _LOG_CHECK = check = secrets_in_logs()
    if check.leaked:
        pytest.fail(
            f"{len(check.leaked)} secrets appear in the logs of this run ({LOG_DIR}), "
            f"e.g. {check.leaked[0][:6]}…",
            pytrace=False,
        )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    if _LOG_CHECK is not None:
        from tests.servers import SEEN_SECRETS

        terminalreporter.write_line(
            f"Log check: {len(SEEN_SECRETS)} secrets seen, {len(_LOG_CHECK.files)} log "
            f"files, {_LOG_CHECK.lines} lines, {len(_LOG_CHECK.leaked)} leaked"
        )
    if _keep_logs(exitstatus) and LOG_DIR.exists():
        terminalreporter.write_line(f"The logs of this run are kept in {LOG_DIR}")


def _keep_logs(exitstatus: int | None) -> bool:
    return exitstatus not in (None, 0) or os.environ.get("TESTS_KEEP_LOGS") == "1"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _EXIT_STATUS
    _EXIT_STATUS = int(session.exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove what the run made: its Redis keys (its own and every server's), its
    temporary folder, and its logs unless it failed (TESTS_KEEP_LOGS=1 keeps them)."""
    if _RUN_LOG is not None:
        logging.getLogger().removeHandler(_RUN_LOG)
        _RUN_LOG.close()
    if not OWNS_RUN:
        return
    if redis_available():
        delete_cache_keys(KEY_PREFIX)
    shutil.rmtree(TEMP_DIR, ignore_errors=True)
    if not _keep_logs(_EXIT_STATUS):
        shutil.rmtree(LOG_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    clear_run_cache()
    yield
    clear_run_cache()


# A test that needs a real server takes the fixture named for it (or one that does),
# never only a check at run time: collection sees the fixture and marks the test.
@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """pytest-django's test databases; before they are dropped, this process's fast-path
    thread ends and closes its connections (PostgreSQL drops no database in use)."""
    yield
    assert services.fast_path_stop(timeout=30)


@pytest.fixture(scope="session")
def redis_server() -> None:
    """The run's Redis at 127.0.0.1:6379, which is also this process's cache."""
    need(redis_available() and REDIS_AVAILABLE, "Redis at 127.0.0.1:6379")


@pytest.fixture(scope="session")
def rabbitmq_server() -> None:
    """RabbitMQ at 127.0.0.1:5672, the Celery broker."""
    need(rabbitmq_available(), "RabbitMQ at 127.0.0.1:5672")


@pytest.fixture(scope="session")
def postgres_server() -> None:
    """The PostgreSQL server at 127.0.0.1:5432, where a test makes databases of its own."""
    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432")


@pytest.fixture(autouse=True)
def _publishing_fresh() -> None:
    """Each test's enqueues publish at once, whatever broker failure the last test saw
    (a failed publish makes this process leave publishing to the relay for seconds)."""
    broker.publishing_resume()


# The fixtures above, and those that start a server or a worker: a test that takes one
# (itself or through another fixture), or that runs on a cache engine (Redis), is an
# integration test.
SERVER_FIXTURES = {
    "redis_server",
    "rabbitmq_server",
    "postgres_server",
    "worker",
    "worker_factory",
    "relay",
    "live",
    "live_stack",
    "tasks",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches a real server ``integration``, so that
    ``pytest -m "not integration"`` runs the unit tests alone, with no service up.

    Modules that start their servers themselves carry the marker in ``pytestmark``.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("engine") if callspec else None
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) or engine in CACHE_ENGINES:
            item.add_marker(pytest.mark.integration)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test that takes ``engine`` once per engine its ``engines`` marker selects
    (tests/support/engines.py), or on all five; its own ``parametrize`` comes first."""
    if "engine" in metafunc.fixturenames and not parametrizes(metafunc, "engine"):
        metafunc.parametrize("engine", selected_engines(metafunc), indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest, db: None) -> Iterator[str]:
    """The session engine of this run of the test (cache engines on the real Redis)."""
    name = request.param
    if name in CACHE_ENGINES:
        request.getfixturevalue("redis_server")
    with override_settings(SESSION_ENGINE=SESSION_ENGINES[name]):
        yield name


@pytest.fixture
def client(engine: str) -> Client:
    """A CSRF-aware client on the parametrized engine, token already fetched."""
    api = Client()
    api.csrf()
    return api


@pytest.fixture
def make_client(engine: str):
    """Build more clients (other browsers) on the same engine."""

    def build(*, with_csrf: bool = True) -> Client:
        api = Client()
        if with_csrf:
            api.csrf()
        return api

    return build
