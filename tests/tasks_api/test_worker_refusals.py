"""What a worker refuses to run, whatever was queued (integration: real RabbitMQ, a real
worker process): a task of a deactivated user, and a type the worker's settings switch
off."""

from __future__ import annotations

import pytest

from tasks_api import selectors
from tasks_api.selectors import Owner
from tests.support.polling import poll, wait_for
from tests.support.workers import FINAL, enqueue

pytestmark = pytest.mark.integration

MAIL = {"to": ["ana@example.com", "bo@example.org"], "subject": "Hi", "body": "Hello."}


@pytest.fixture(scope="module")
def worker(worker_factory):
    """A worker on which demo.fail is switched off (this process still offers it, as a
    server did before the type was switched off)."""
    process = worker_factory(concurrency=2, extra_env={"TASKS_DISABLED_TYPES": "demo.fail"})
    process.start()
    return process


def _accepted(response) -> str:
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _deactivate(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def _task_of(user, task_id: str, until=lambda task: task["status"] in FINAL, timeout=20.0):
    """The task as its owner would see it (a deactivated user can no longer ask)."""
    owner = Owner(user_id=user.pk)
    return poll(
        lambda: selectors.task_detail(record=selectors.task_get(owner=owner, task_id=task_id)),
        until,
        timeout=timeout,
        what=f"task {task_id} never got there",
    )


def test_a_queued_task_of_a_deactivated_user_never_starts(worker, relay, make_user, user_api):
    user = make_user()
    client = user_api(user)
    task_id = _accepted(enqueue(client, "mail.send", MAIL, countdown=2))
    _deactivate(user)  # while it waits on its countdown
    # REVOKED by the worker (its result row says so), not merely by the record.
    task = _task_of(user, task_id, until=lambda task: task["finished_at"] is not None)
    assert task["status"] == "REVOKED"
    assert task["started_at"] is None and task["result"] is None
    assert list(worker.mail_dir.iterdir()) == []  # no message went out


def test_a_running_task_of_a_deactivated_user_stops(worker, make_user, user_api):
    user = make_user()
    client = user_api(user)
    task_id = _accepted(enqueue(client, "demo.sleep", {"seconds": 30, "steps": 30}))
    wait_for(client, task_id, until=lambda task: task["status"] == "PROGRESS")
    _deactivate(user)
    task = _task_of(user, task_id)
    assert task["status"] == "REVOKED"
    assert task["started_at"] is not None and task["result"] is None


def test_a_queued_task_of_a_switched_off_type_fails_without_running(worker, api):
    task = wait_for(api, _accepted(enqueue(api, "demo.fail", {"message": "boom"})))
    assert task["status"] == "FAILURE"
    assert task["error"]["type"] == "TaskTypeDisabled"  # not demo.fail's own TaskFailed
    assert "demo.fail" in task["error"]["message"]
    assert task["started_at"] is None
    # The worker runs the types it has on.
    assert wait_for(api, _accepted(enqueue(api, "demo.add", {"a": 1, "b": 2})))["result"] == 3
