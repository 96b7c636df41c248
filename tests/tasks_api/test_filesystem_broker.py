"""The embedded broker of `make run` (kombu's filesystem transport, no RabbitMQ):
tasks run and cancelling works, with a real worker process (integration)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.polling import cancel_unsent, wait_for
from tests.support.processes import setting_in_fresh_process
from tests.support.workers import RelayProcess, WorkerProcess, broker_at, enqueue

pytestmark = pytest.mark.integration

URL = "filesystem://"


@pytest.fixture(scope="module")
def broker_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # A folder of its own, so the test leaves nothing in a developer's .run/broker.
    folder = tmp_path_factory.mktemp("broker")
    return {"CELERY_BROKER_URL": URL, "CELERY_FILESYSTEM_BROKER_DIR": str(folder)}


@pytest.fixture(scope="module")
def transport_options(broker_env: dict[str, str]) -> dict[str, Any]:
    """The transport options the settings compute for this broker (as the worker gets)."""
    options = setting_in_fresh_process("CELERY_BROKER_TRANSPORT_OPTIONS", **broker_env)
    folder = broker_env["CELERY_FILESYSTEM_BROKER_DIR"]
    assert Path(options["data_folder_in"]).is_relative_to(folder)
    return options


@pytest.fixture(scope="module")
def fs_worker(worker_factory: Any, broker_env: dict[str, str]) -> WorkerProcess:
    worker = worker_factory(concurrency=2, extra_env=broker_env)
    worker.start()
    return worker


@pytest.fixture(scope="module")
def fs_relay(relay_factory: Any, broker_env: dict[str, str]) -> RelayProcess:
    relay = relay_factory(extra_env=broker_env)
    relay.start()
    return relay


@pytest.fixture
def fs_api(
    api: Any,
    fs_worker: WorkerProcess,
    transport_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    with broker_at(URL, monkeypatch, transport_options):
        yield api


def test_task_runs_on_the_embedded_broker(fs_api):
    response = enqueue(fs_api, "demo.add", {"a": 20, "b": 22})
    assert response.status_code == 202, response.content
    assert wait_for(fs_api, response.json()["id"])["result"] == 42


def test_running_task_is_cancelled_on_the_embedded_broker(fs_api):
    task = enqueue(fs_api, "demo.sleep", {"seconds": 20, "steps": 20}).json()
    wait_for(fs_api, task["id"], until=lambda t: t["status"] == "PROGRESS")
    assert fs_api.send("POST", f"/api/v1/tasks/{task['id']}/cancel/").status_code == 202
    assert wait_for(fs_api, task["id"], timeout=10)["status"] == "REVOKED"


def test_scheduled_task_runs_through_the_relay_on_the_embedded_broker(fs_api, fs_relay):
    task = enqueue(fs_api, "demo.add", {"a": 2, "b": 2}, countdown=1).json()
    assert task["run_after"] is not None
    assert wait_for(fs_api, task["id"], timeout=30)["result"] == 4


def test_scheduled_task_is_cancelled_on_the_embedded_broker(fs_api):
    task = enqueue(fs_api, "demo.add", {"a": 1, "b": 1}, countdown=1).json()
    cancel_unsent(fs_api, task["id"])
