"""The clients' tests: Node and the TypeScript package's tools, and a live service.

The TypeScript checks need Node.js and the package's dependencies
(``npm ci --prefix clients/typescript``); without them they skip and say why, except
under CI=true, where that is a failure (``.ci/run`` installs both).

The live service is what a client meets in production: gunicorn over a migrated
temporary SQLite database and a Celery worker on the real broker, reading a queue of
this run, started once for every test of this package. Its enqueue rate is low
(``ENQUEUE_RATE``), so a test reaches a ``429`` in a few calls.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.namespace import queue_name, rabbitmq_available
from tests.servers import ROOT, celery_worker, gunicorn, sqlite_service_env
from tests.support.clients import IN_CI, need
from tests.support.workers import deleting_queue

CLIENT = ROOT / "clients" / "typescript"
ENQUEUE_RATE = "5/min"


def require(available: bool, reason: str) -> None:
    """Skip with ``reason`` when a tool is missing; under CI=true, fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason}, and CI=true requires it.")
    pytest.skip(reason)


@dataclass(frozen=True)
class Node:
    """Node.js and the TypeScript package's installed tools."""

    node: str
    bin: Path  # clients/typescript/node_modules/.bin

    def tool(self, name: str) -> str:
        return str(self.bin / name)


@pytest.fixture(scope="session")
def node() -> Node:
    found = shutil.which("node")
    require(found is not None, "Node.js is not installed (apt-get install nodejs npm)")
    assert found is not None
    bin_dir = CLIENT / "node_modules" / ".bin"
    require(
        (bin_dir / "tsc").exists() and (bin_dir / "openapi-typescript").exists(),
        "The TypeScript client's dependencies are not installed "
        "(npm ci --prefix clients/typescript)",
    )
    return Node(node=found, bin=bin_dir)


@dataclass(frozen=True)
class LiveStack:
    base: str
    env: dict[str, str]


@pytest.fixture(scope="package")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """gunicorn and a Celery worker over one fresh SQLite database."""
    need(rabbitmq_available(), "RabbitMQ at 127.0.0.1:5672")
    queue = queue_name("clients")
    env = sqlite_service_env(
        tmp_path_factory.mktemp("clients"), queue=queue, TASKS_ENQUEUE_RATE=ENQUEUE_RATE
    )
    with (
        deleting_queue(queue, env["CELERY_BROKER_URL"]),
        celery_worker(env, queue=queue, name=queue),
        gunicorn(env) as base,
    ):
        yield LiveStack(base=base, env=env)
