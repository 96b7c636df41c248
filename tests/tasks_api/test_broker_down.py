"""The broker down: a fast 503 every time, nothing left claiming to be queued, and
readiness says so. Real connection attempts to real sockets (no mocks)."""

from __future__ import annotations

import logging
import socket
import statistics
import time
from collections.abc import Iterator

import pytest

from tasks_api.models import TaskRecord
from tests.servers import TcpProxy, free_port
from tests.support.workers import broker_at, enqueue

CONTRACT_SECONDS = 5.0


def _enqueue_timed(api) -> tuple[int, str, float]:
    started = time.monotonic()
    response = enqueue(api, "demo.add", {"a": 1, "b": 2})
    took = time.monotonic() - started
    return response.status_code, response.json().get("code", ""), took


def test_closed_port_gives_503_within_5_seconds_twenty_times(api, monkeypatch):
    with broker_at(f"amqp://guest:guest@127.0.0.1:{free_port()}//", monkeypatch):
        results = [_enqueue_timed(api) for _ in range(20)]
    took = [seconds for _, _, seconds in results]
    print(
        f"\nbroker on a closed port: 20 enqueues, max {max(took):.3f} s, "
        f"median {statistics.median(took):.3f} s"
    )
    assert [(status, code) for status, code, _ in results] == [(503, "broker_unavailable")] * 20
    assert max(took) < CONTRACT_SECONDS
    # Nothing claims to be queued: no record at all, and the list is empty.
    assert not TaskRecord.objects.exists()
    assert api.get("/api/v1/tasks/").json()["count"] == 0
    assert api.get("/api/v1/tasks/?status=PENDING").json()["count"] == 0


@pytest.fixture
def silent_broker() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


def test_silent_broker_gives_503_within_5_seconds(api, monkeypatch, silent_broker):
    with broker_at(f"amqp://guest:guest@127.0.0.1:{silent_broker}//", monkeypatch):
        results = [_enqueue_timed(api) for _ in range(2)]
    print(f"\nsilent broker: {', '.join(f'{s:.2f} s' for _, _, s in results)}")
    assert [(status, code) for status, code, _ in results] == [(503, "broker_unavailable")] * 2
    assert max(seconds for _, _, seconds in results) < CONTRACT_SECONDS
    assert not TaskRecord.objects.exists()


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
            assert _enqueue_timed(api)[0] == 202  # one fresh attempt, no 503
            assert "stale" in caplog.text
            proxy.cut()  # the broker is down
            status, code, took = _enqueue_timed(api)
            assert (status, code) == (503, "broker_unavailable") and took < CONTRACT_SECONDS
            proxy.restore()  # and back
            assert _enqueue_timed(api)[0] == 202
    finally:
        proxy.cut()
    assert TaskRecord.objects.count() == 3
