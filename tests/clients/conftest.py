"""The clients' tests: Node and the TypeScript package's tools, and a live service.

The TypeScript checks need Node.js and the package's dependencies
(``npm ci --prefix clients/typescript``); without them they skip and say why, except
under CI=true, where that is a failure (``.ci/run`` installs both).

The live service is what a client meets in production (tests/support/live.py):
gunicorn over a migrated temporary SQLite database and a Celery worker on the real
broker, reading a queue of this run, started once for every test of this package. Its
enqueue rate is low (``ENQUEUE_RATE``), so a test reaches a ``429`` in a few calls.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live import LiveService, live_service, live_worker
from tests.support.node import Node, installed_node

ENQUEUE_RATE = "5/min"


@pytest.fixture(scope="session")
def node() -> Node:
    return installed_node()


@pytest.fixture(scope="package")
def live_stack(
    tmp_path_factory: pytest.TempPathFactory, rabbitmq_server: None
) -> Iterator[LiveService]:
    """gunicorn and a Celery worker over one fresh SQLite database."""
    folder = tmp_path_factory.mktemp("clients")
    with (
        live_service(folder, purpose="clients", TASKS_ENQUEUE_RATE=ENQUEUE_RATE) as service,
        live_worker(service),
    ):
        yield service
