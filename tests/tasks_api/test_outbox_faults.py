"""A task answered 202 runs exactly once, whatever dies on its way (integration: the
real RabbitMQ, real worker and relay processes, and for the web process a real
gunicorn).

* The same message published twice (what the outbox's at-least-once publishing can
  do): the task runs once.
* The web process SIGKILLed between the commit and its publish: the relay publishes
  the task once the fast path's grace has passed.
* RabbitMQ restarted with 100 tasks accepted, some queued, some left in the outbox
  while it was away: each runs once. The broker is a private RabbitMQ node of the test
  (tests.support.rabbitmq): the shared one on 5672 serves other test runs and is never
  stopped, and a real restart (durable queues and persistent messages coming back, the
  clients' connections closed) is what this is about, which a TCP proxy cannot show.
* The relay SIGKILLed mid-batch (some messages published, none marked sent): a new
  relay publishes the whole batch again once the claim's lease ends, and the worker
  drops the second copies.

Each counts the runs in the worker's log: a task that ran twice fails the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from api_project.celery import app as celery_app
from tasks_api import broker
from tasks_api.models import TaskOutbox, TaskRecord
from tests.namespace import LOG_DIR, queue_name
from tests.servers import (
    DEFAULT_BROKER,
    HttpSession,
    celery_worker,
    free_port,
    gunicorn_command,
    sqlite_service_env,
    start_process,
    stop_process,
    wait_until_healthy,
)
from tests.support.clients import need
from tests.support.polling import poll, wait_for
from tests.support.rabbitmq import private_rabbitmq, private_rabbitmq_available
from tests.support.workers import broker_at, deleting_queue, enqueue

# Run once (the SQLite pass), like the other fault tests: what they break is the
# broker, the relay and the web process; the relay's claim on each database is
# tested in test_services on both passes.
pytestmark = [pytest.mark.integration, pytest.mark.standalone]


@pytest.fixture
def many(settings):
    """Limits out of the way of a test that enqueues hundreds of tasks."""
    settings.TASKS_ENQUEUE_RATE = "100000/min"
    settings.TASKS_ENQUEUE_ADDRESS_RATE = "100000/min"
    settings.TASKS_MAX_ACTIVE_PER_OWNER = 10000


def _runs(log: str, name: str = r"demo\.\w+") -> Counter[str]:
    return Counter(re.findall(rf"Task {name}\[([0-9a-f-]{{36}})\] succeeded", log))


def _second_copies(log: str) -> Counter[str]:
    return Counter(re.findall(r"\[([0-9a-f-]{36})\]: a second copy of its message", log))


def _accepted(response) -> str:
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_the_same_message_published_twice_runs_once(api, worker_factory):
    worker = worker_factory()
    worker.start()
    try:
        # After the task finished.
        done = _accepted(enqueue(api, "demo.add", {"a": 1, "b": 2}))
        assert wait_for(api, done)["result"] == 3
        broker.publish(name="demo.add", task_id=done, kwargs={"a": 1, "b": 2})
        # While it runs.
        running = _accepted(enqueue(api, "demo.sleep", {"seconds": 2, "steps": 4}))
        wait_for(api, running, until=lambda task: task["status"] == "PROGRESS")
        broker.publish(name="demo.sleep", task_id=running, kwargs={"seconds": 2, "steps": 4})
        assert wait_for(api, running)["status"] == "SUCCESS"
        poll(lambda: _second_copies(worker.log()), lambda c: len(c) == 2, timeout=20)
        log = worker.log()
    finally:
        worker.stop()
    assert _second_copies(log) == Counter({done: 1, running: 1})
    assert _runs(log) == Counter({done: 1, running: 1})
    assert wait_for(api, done)["result"] == 3  # the first run's state stays


def test_web_process_killed_between_commit_and_publish_loses_no_task(tmp_path, rabbitmq_server):
    """gunicorn's broker is a port that accepts and never answers, with a long connect
    timeout: the enqueue commits and answers 202, its fast path hangs in the publish,
    and the process is SIGKILLed there. The relay and the worker (on the real RabbitMQ)
    run the task once."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    queue = queue_name(f"webkill-{uuid.uuid4().hex[:6]}")
    database = tmp_path / "db.sqlite3"
    env = sqlite_service_env(
        tmp_path,
        queue=queue,
        CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{silent.getsockname()[1]}//",
        CELERY_BROKER_CONNECTION_TIMEOUT="60",
    )
    port = free_port()
    web = start_process(
        gunicorn_command(port, "--workers", "1", "--timeout", "120"),
        env=env,
        log=LOG_DIR / f"gunicorn-webkill-{port}.log",
        new_session=True,
    )
    relay = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(web, base)
        browser = HttpSession(base)
        browser.fetch_csrf()
        status, content, _ = browser.request(
            "POST", "/api/v1/tasks/", {"name": "demo.add", "args": {"a": 2, "b": 3}}
        )
        # Accepted, and still unsent: the fast path is stuck in its publish.
        assert status == 202, content
        assert content["status"] == "PENDING"
        # The broker got a connection: the publish is under way when the kill comes.
        silent.settimeout(30)
        accepted, _ = silent.accept()

        def committed() -> list[tuple[str, str]]:
            with contextlib.closing(sqlite3.connect(database)) as db:
                return db.execute(
                    "SELECT r.id, o.due_at FROM tasks_api_taskrecord r "
                    "JOIN tasks_api_taskoutbox o ON o.task_id = r.id"
                ).fetchall()

        rows = committed()
        assert [str(uuid.UUID(row[0])) for row in rows] == [content["id"]]
        os.killpg(web.pid, signal.SIGKILL)
        web.wait(timeout=10)
        accepted.close()
        task_id = str(uuid.UUID(rows[0][0]))

        live = {**env, "CELERY_BROKER_URL": DEFAULT_BROKER}
        with (
            deleting_queue(queue, DEFAULT_BROKER),
            celery_worker(live, queue=queue, name=f"webkill-{port}") as worker_log,
        ):
            relay = start_process(
                [sys.executable, "manage.py", "tasks_relay"],
                env=live,
                log=LOG_DIR / f"tasks-relay-webkill-{port}.log",
                new_session=True,
            )

            def status() -> str | None:
                with contextlib.closing(sqlite3.connect(database)) as db:
                    row = db.execute(
                        "SELECT status FROM django_celery_results_taskresult WHERE task_id = ?",
                        [task_id],
                    ).fetchone()
                return row[0] if row else None

            assert poll(status, lambda s: s == "SUCCESS", timeout=60) == "SUCCESS"
            stop_process(relay)
            relay = None
            log = Path(worker_log).read_text(errors="replace")
        assert _runs(log) == Counter({task_id: 1})
        with contextlib.closing(sqlite3.connect(database)) as db:
            assert db.execute("SELECT COUNT(*) FROM tasks_api_taskoutbox").fetchone() == (0,)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(web.pid, signal.SIGKILL)
        if relay is not None:
            stop_process(relay)
        silent.close()


def test_rabbitmq_restarted_with_100_tasks_accepted_runs_each_once(
    api, many, worker_factory, relay_factory, tmp_path, monkeypatch
):
    need(private_rabbitmq_available(), "rabbitmq-server installed (for a private node)")
    with private_rabbitmq(tmp_path / "rabbitmq") as node:
        on_node = {"CELERY_BROKER_URL": node.url}
        worker = worker_factory(concurrency=2, extra_env=on_node)
        relay = relay_factory(extra_env=on_node)
        try:
            with broker_at(node.url, monkeypatch):
                worker.start()
                relay.start()
                ids = [
                    _accepted(enqueue(api, "demo.sleep", {"seconds": 0.2, "steps": 1}))
                    for _ in range(60)
                ]
                poll(lambda: _finished(api, ids), lambda n: n >= 10, timeout=60)
                node.stop()  # the broker restarts: 60 queued or running, some done
                done_before = _finished(api, ids)
                waiting = [
                    _accepted(enqueue(api, "demo.sleep", {"seconds": 0.2, "steps": 1}))
                    for _ in range(40)
                ]
                assert TaskOutbox.objects.filter(pk__in=waiting).count() == 40
                node.start()
                ids += waiting
                poll(lambda: _finished(api, ids), lambda n: n == 100, timeout=180)
            statuses = Counter(wait_for(api, task_id)["status"] for task_id in ids)
            log = worker.log()
        finally:
            worker.stop()
            relay.stop()
    runs = _runs(log)
    print(
        f"\nRabbitMQ restarted after {done_before}/60 tasks, 40 accepted while it was away: "
        f"{dict(statuses)}; {len(runs)} tasks ran, {sum(_second_copies(log).values())} "
        "second copies dropped"
    )
    assert statuses == Counter({"SUCCESS": 100})
    assert runs == Counter({task_id: 1 for task_id in ids})
    assert not TaskOutbox.objects.exists()


def _finished(api, ids) -> int:
    return sum(
        api.get(f"/api/v1/tasks/{task_id}/").json()["status"] in {"SUCCESS", "FAILURE"}
        for task_id in ids
    )


TASKS_IN_BATCH = 500


def test_relay_killed_mid_batch_publishes_each_task_once(
    api, many, worker_factory, relay_factory, monkeypatch, rabbitmq_server
):
    with broker_at(f"amqp://guest:guest@127.0.0.1:{free_port()}//", monkeypatch):
        ids = [_accepted(enqueue(api, "demo.add", {"a": 1, "b": n})) for n in range(TASKS_IN_BATCH)]
    assert TaskOutbox.objects.count() == TASKS_IN_BATCH  # all waiting for the broker
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        celery_app.amqp.queues[queue].bind(channel).declare()
        channel.queue_purge(queue)
        relay = relay_factory(arguments=("--batch-size", str(TASKS_IN_BATCH)))
        relay.start()
        # Killed as soon as the broker holds some of the batch: published, none marked
        # sent (the relay deletes a batch's rows after its publishes).
        poll(lambda: _depth(channel, queue), lambda n: n >= 20, timeout=30, interval=0.002)
        relay.kill()
        time.sleep(0.5)
        published = _depth(channel, queue)
    print(f"\nrelay killed mid-batch: {published}/{TASKS_IN_BATCH} published, none marked sent")
    assert 0 < published < TASKS_IN_BATCH, "the relay was not killed mid-batch"
    assert TaskOutbox.objects.count() == TASKS_IN_BATCH
    worker = worker_factory(concurrency=2)
    worker.start()
    relay_factory().start()  # takes the batch again once the lease has ended
    try:
        poll(lambda: TaskOutbox.objects.count(), lambda n: n == 0, timeout=120)
        poll(lambda: _finished(api, ids), lambda n: n == TASKS_IN_BATCH, timeout=120)
        poll(
            lambda: _second_copies(worker.log()), lambda c: sum(c.values()) >= published, timeout=60
        )
        log = worker.log()
    finally:
        worker.stop()
    runs = _runs(log, r"demo\.add")
    copies = _second_copies(log)
    print(f"each of {len(runs)} tasks ran once; {sum(copies.values())} second copies dropped")
    assert runs == Counter({task_id: 1 for task_id in ids})
    assert set(copies) <= set(ids) and all(count == 1 for count in copies.values())
    assert TaskRecord.objects.filter(started_at__isnull=True).count() == 0


def _depth(channel, queue: str) -> int:
    return channel.queue_declare(queue=queue, passive=True).message_count
