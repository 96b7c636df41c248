"""Waiting until something reaches a state: one loop, with a deadline that fails.

No wait here returns quietly at its deadline: the test fails there, naming what it
waited for and what it saw last.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
FINAL = {"SUCCESS", "FAILURE", "REVOKED"}


def poll(
    fetch: Callable[[], T],
    until: Callable[[T], bool] = bool,
    *,
    timeout: float,
    interval: float = 0.1,
    what: str | Callable[[], str] = "the condition never held",
) -> T:
    """Call ``fetch`` until ``until(value)`` and return that value; at the deadline, an
    AssertionError with ``what`` (called then, if it is callable) and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if until(value):
            return value
        if time.monotonic() > deadline:
            message = what() if callable(what) else what
            raise AssertionError(f"{message}; last seen: {value!r}")
        time.sleep(interval)


def is_final(task: dict[str, Any]) -> bool:
    return task["status"] in FINAL


def wait_for(
    client: Any,
    task_id: str,
    until: Callable[[dict[str, Any]], bool] = is_final,
    timeout: float = 20.0,
    seen: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Poll ``GET /api/v1/tasks/{id}/`` with the in-process ``client`` until
    ``until(task)``; every answer is 200."""

    def fetch() -> dict[str, Any]:
        response = client.get(f"/api/v1/tasks/{task_id}/")
        assert response.status_code == 200, response.content
        task = response.json()
        if seen is not None:
            seen.append(task)
        return task

    return poll(
        fetch, until, timeout=timeout, interval=0.05, what=f"Task {task_id} never got there"
    )


def wait_for_over_http(browser: Any, task_id: str, final: set[str], seconds: float = 30) -> dict:
    """Poll the task through a live server (a tests.servers.HttpSession) until its
    status is in ``final``."""

    def fetch() -> dict:
        status, task, _ = browser.request("GET", f"/api/v1/tasks/{task_id}/")
        assert status == 200, task
        return task

    return poll(
        fetch,
        lambda task: task["status"] in final,
        timeout=seconds,
        interval=0.2,
        what=f"task {task_id} not {sorted(final)} after {seconds} s",
    )


def wait_until_dropped(client: Any, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Wait until a worker has seen a cancelled task's message and not run it (its own
    ``REVOKED`` result); return the task as polled afterwards."""
    from django_celery_results.models import TaskResult

    poll(
        TaskResult.objects.filter(task_id=task_id, status="REVOKED").exists,
        timeout=timeout,
        what="no worker dropped the cancelled task",
    )
    after = wait_for(client, task_id)
    assert after["status"] == "REVOKED"
    assert after["started_at"] is None and after["result"] is None
    return after


def cancel_queued(client: Any, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Cancel a task that has not started, then wait until a worker has dropped it.

    The cancel answers ``REVOKED`` at once; the worker's own ``REVOKED`` result shows
    it saw the message and did not run it. Returns the task as polled afterwards.
    """
    response = client.send("POST", f"/api/v1/tasks/{task_id}/cancel/")
    assert response.status_code == 202, response.content
    cancelled = response.json()
    assert cancelled["status"] == "REVOKED"
    assert cancelled["finished_at"] is not None and cancelled["started_at"] is None
    return wait_until_dropped(client, task_id, timeout=timeout)


def cancel_unsent(client: Any, task_id: str) -> dict[str, Any]:
    """Cancel a task whose message is still in the outbox (scheduled, or waiting for the
    broker): ``REVOKED`` at once, and its message gone, so no relay ever publishes it."""
    from tasks_api.models import TaskOutbox

    response = client.send("POST", f"/api/v1/tasks/{task_id}/cancel/")
    assert response.status_code == 202, response.content
    cancelled = response.json()
    assert cancelled["status"] == "REVOKED"
    assert cancelled["finished_at"] is not None and cancelled["started_at"] is None
    assert not TaskOutbox.objects.filter(pk=task_id).exists()
    return cancelled
