"""The broker down is not an error: a fast 202 every time, the task PENDING in the
outbox, run once the broker is back; 503 only beyond TASKS_OUTBOX_MAX; readiness says
the broker is down. Real connection attempts to real sockets (no mocks)."""

from __future__ import annotations

import logging
import socket
import statistics
import time
from collections.abc import Iterator

import pytest

from tasks_api import services
from tasks_api.models import TaskOutbox, TaskRecord
from tests.namespace import rabbitmq_available
from tests.servers import TcpProxy, free_port
from tests.support.clients import need
from tests.support.polling import wait_for
from tests.support.workers import broker_at, enqueue

CONTRACT_SECONDS = 5.0


def _enqueue_timed(api) -> tuple[int, str, float]:
    """One enqueue: its status, error code and seconds; then, untimed, the wait for its
    fast path (the publish after the answer), so each test sees the outbox as it is once
    that tried: a burst's requests may overtake it, but these steps are in order."""
    started = time.monotonic()
    response = enqueue(api, "demo.add", {"a": 1, "b": 2})
    took = time.monotonic() - started
    assert services.fast_path_flush(timeout=CONTRACT_SECONDS)
    return response.status_code, response.json().get("code", ""), took


def test_closed_port_gives_202_and_the_tasks_run_once_the_broker_is_back(
    api, monkeypatch, worker_factory, relay_factory
):
    with broker_at(f"amqp://guest:guest@127.0.0.1:{free_port()}//", monkeypatch):
        results = [_enqueue_timed(api) for _ in range(20)]
    took = [seconds for _, _, seconds in results]
    print(
        f"\nbroker on a closed port: 20 enqueues, max {max(took):.3f} s, "
        f"median {statistics.median(took):.3f} s"
    )
    assert [status for status, _, _ in results] == [202] * 20
    assert max(took) < CONTRACT_SECONDS
    # Every one waits, PENDING, with its message in the outbox.
    assert api.get("/api/v1/tasks/?status=PENDING").json()["count"] == 20
    assert TaskOutbox.objects.count() == 20
    assert TaskOutbox.objects.filter(attempts__gte=1).exists()  # the fast path tried
    # The broker is back (this process and its children talk to the real one again).
    need(rabbitmq_available(), "RabbitMQ at 127.0.0.1:5672")
    worker, relay = worker_factory(), relay_factory()
    worker.start()
    relay.start()
    try:
        ids = list(TaskRecord.objects.values_list("pk", flat=True))
        finals = [wait_for(api, str(task_id), timeout=60) for task_id in ids]
        assert [task["status"] for task in finals] == ["SUCCESS"] * 20
        assert not TaskOutbox.objects.exists()
        for task_id in ids:
            assert worker.log().count(f"Task demo.add[{task_id}] succeeded") == 1
    finally:
        # Not left running for the module's next tests, whose outbox rows it would
        # publish (and delete) behind their backs.
        relay.stop()
        worker.stop()


def test_beyond_the_outbox_limit_the_answer_is_503_and_nothing_is_recorded(
    api, monkeypatch, settings
):
    settings.TASKS_OUTBOX_MAX = 3
    with broker_at(f"amqp://guest:guest@127.0.0.1:{free_port()}//", monkeypatch):
        results = [_enqueue_timed(api) for _ in range(6)]
    assert [(status, code) for status, code, _ in results] == [(202, "")] * 4 + [
        (503, "broker_unavailable")
    ] * 2
    assert max(seconds for _, _, seconds in results) < CONTRACT_SECONDS
    assert TaskRecord.objects.count() == TaskOutbox.objects.count() == 4
    assert api.get("/api/v1/tasks/").json()["count"] == 4


@pytest.fixture
def silent_broker() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


def test_silent_broker_gives_202_within_5_seconds(api, monkeypatch, silent_broker):
    with broker_at(f"amqp://guest:guest@127.0.0.1:{silent_broker}//", monkeypatch):
        results = [_enqueue_timed(api) for _ in range(3)]
    print(f"\nsilent broker: {', '.join(f'{s:.2f} s' for _, _, s in results)}")
    assert [status for status, _, _ in results] == [202] * 3
    assert max(seconds for _, _, seconds in results) < CONTRACT_SECONDS
    # The fast path tried the first task's message and failed; with publishing paused
    # the next ones were left to the relay without trying.
    attempts = TaskOutbox.objects.order_by("task__created_at").values_list("attempts", flat=True)
    assert list(attempts) == [1, 0, 0]


def test_readyz_reports_the_broker_down(db, monkeypatch):
    from tests.support.clients import Client

    with broker_at(f"amqp://guest:guest@127.0.0.1:{free_port()}//", monkeypatch):
        started = time.monotonic()
        response = Client().get("/readyz")
        took = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert took < CONTRACT_SECONDS


def test_readyz_reports_the_broker_up(db, rabbitmq_server):
    from tests.support.clients import Client

    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"]["ok"] is True


def test_enqueue_recovers_when_the_broker_comes_back(api, rabbitmq_server, monkeypatch, caplog):
    """A pooled connection that died with the broker is not reused forever."""
    caplog.set_level(logging.INFO, logger="tasks_api.broker")
    proxy = TcpProxy(5672)
    try:
        with broker_at(f"amqp://guest:guest@127.0.0.1:{proxy.port}//", monkeypatch):
            assert _enqueue_timed(api)[0] == 202
            proxy.cut()  # the broker restarts: the pooled connection dies...
            proxy.restore()  # ...and the broker is back before the next request
            assert _enqueue_timed(api)[0] == 202  # one fresh attempt: published
            assert "stale" in caplog.text
            assert not TaskOutbox.objects.exists()
            proxy.cut()  # the broker is down
            status, _, took = _enqueue_timed(api)
            assert status == 202 and took < CONTRACT_SECONDS
            assert TaskOutbox.objects.get().attempts == 1  # left to the relay
            proxy.restore()  # and back
            assert _enqueue_timed(api)[0] == 202
    finally:
        proxy.cut()
    assert TaskRecord.objects.count() == 4
