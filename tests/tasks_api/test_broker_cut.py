"""RabbitMQ cut and restored under a worker with 100 tasks queued: none is lost.

The worker reaches RabbitMQ through a TCP proxy (tests.servers.TcpProxy); the test cuts
every connection mid-run and refuses new ones for a few seconds, then lets the worker
reconnect. Unacknowledged messages (late acks) go back to the queue, so every task
still reaches a final state. A task that finished but whose ack was lost comes back
too; the worker's start claim sees it finished and drops it, so none runs twice.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from tests.servers import TcpProxy
from tests.support.workers import FINAL, enqueue

# Run once (the SQLite pass): a broker fault, whatever the database.
pytestmark = [pytest.mark.integration, pytest.mark.standalone]

TASKS = 100


def test_broker_cut_and_restored_with_100_tasks_queued_loses_none(api, worker_factory, settings):
    settings.TASKS_ENQUEUE_RATE = "100000/min"
    settings.TASKS_ENQUEUE_ADDRESS_RATE = "100000/min"
    settings.TASKS_MAX_ACTIVE_PER_OWNER = TASKS
    proxy = TcpProxy(5672)
    worker = worker_factory(
        concurrency=2,
        extra_env={"CELERY_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}//"},
    )
    try:
        ids = []
        for _ in range(TASKS):
            response = enqueue(api, "demo.sleep", {"seconds": 0.2, "steps": 2})
            assert response.status_code == 202, response.content
            ids.append(response.json()["id"])
        worker.start()
        _wait_until(lambda: _count(api, ids, FINAL) >= 10, 60)
        done_before_cut = _count(api, ids, FINAL)
        proxy.cut()
        time.sleep(3)
        proxy.restore()
        _wait_until(lambda: _count(api, ids, FINAL) == TASKS, 120)
        statuses = Counter(api.get(f"/api/v1/tasks/{i}/").json()["status"] for i in ids)
        runs = Counter(re.findall(r"Task demo\.sleep\[([0-9a-f-]{36})\] succeeded", worker.log()))
    finally:
        proxy.cut()
    duplicates = sum(count - 1 for count in runs.values() if count > 1)
    print(
        f"\nbroker cut after {done_before_cut}/{TASKS} tasks, restored 3 s later: "
        f"{dict(statuses)}, {len(runs)} tasks ran, {duplicates} ran twice"
    )
    assert statuses == Counter({"SUCCESS": TASKS})
    assert set(runs) == set(ids)
    assert duplicates == 0


def _count(api, ids, states) -> int:
    return sum(api.get(f"/api/v1/tasks/{i}/").json()["status"] in states for i in ids)


def _wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.5)
