"""A worker SIGKILLed mid-task loses nothing: the unacknowledged message comes back
(late acks) and the task still reaches SUCCESS (integration: real RabbitMQ, real
worker processes)."""

from __future__ import annotations

import os

import pytest

from tests.support.polling import poll, wait_for
from tests.support.workers import FINAL, enqueue

pytestmark = pytest.mark.integration

# 20 in the main run (the reliability figure); the PostgreSQL run of `make test` sets
# fewer, since what it adds there is the database, not the broker.
KILLS = int(os.environ.get("WORKER_KILLS", "20"))


def test_worker_killed_mid_task_repeatedly_loses_no_task(api, worker_factory, settings):
    settings.TASKS_MAX_ACTIVE_PER_OWNER = max(KILLS, settings.TASKS_MAX_ACTIVE_PER_OWNER)
    # KILLS tasks, each killed once while it runs. A killed task's message returns to
    # the head of the queue, so after each restart the worker first finishes the one
    # it lost, then starts the next, which is killed in turn.
    ids = []
    for _ in range(KILLS):
        response = enqueue(api, "demo.sleep", {"seconds": 1.5, "steps": 15})
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])

    interrupted: list[tuple[str, dict]] = []
    worker = worker_factory(concurrency=1)
    for _ in range(KILLS):
        worker.start()
        killed = {task_id for task_id, _ in interrupted}
        running = _wait_for_a_running_task(api, [i for i in ids if i not in killed])
        worker.kill()  # the worker and its pool, by SIGKILL, mid-task
        interrupted.append((running["id"], running["progress"]))

    worker = worker_factory(concurrency=2)
    worker.start()
    finals = {task_id: wait_for(api, task_id, timeout=60) for task_id in ids}
    statuses = [task["status"] for task in finals.values()]
    print(
        f"\nSIGKILL mid-task: {len(interrupted)} kills "
        f"({len({task_id for task_id, _ in interrupted})} distinct tasks interrupted), "
        f"{sum(s == 'SUCCESS' for s in statuses)}/{len(ids)} tasks reached SUCCESS; "
        "progress when killed: " + ", ".join(f"{p['current']}/{p['total']}" for _, p in interrupted)
    )
    assert len(interrupted) == KILLS
    assert {task_id for task_id, _ in interrupted} == set(ids)
    assert statuses == ["SUCCESS"] * KILLS
    assert all(task["result"] == {"slept": 1.5} for task in finals.values())


def _wait_for_a_running_task(api, ids, timeout=30.0):
    """The first task seen in PROGRESS, past its first step."""

    def running():
        for task_id in ids:
            task = api.get(f"/api/v1/tasks/{task_id}/").json()
            assert task["status"] not in FINAL, task  # none ran before its turn
            if task["status"] == "PROGRESS" and task["progress"]["current"] >= 2:
                return task
        return None

    return poll(running, timeout=timeout, interval=0.05, what="no task started running")
