"""The same Idempotency-Key sent several times at once, to a real gunicorn on PostgreSQL.

The contract: the same owner sending the same key again gets ``200`` with the first
task instead of a new one. Sent at the same moment, the requests all pass the "is the
key taken?" read before any has written; the database's unique constraint then lets one
insert through, and the others must answer with that one's task (never a 500, never a
second task).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.namespace import queue_name
from tests.servers import (
    HttpSession,
    gunicorn,
    manage,
    postgres_database,
    postgres_url,
    service_env,
)
from tests.support.workers import deleting_queue

pytestmark = [pytest.mark.integration, pytest.mark.standalone]

ROUNDS, PARALLEL = 5, 8


def test_parallel_requests_with_one_idempotency_key_make_one_task(postgres_server, rabbitmq_server):
    queue = queue_name("idempotency-race")
    with postgres_database("idempotency_race") as database:
        env = service_env(
            DATABASE_URL=postgres_url(database),
            CELERY_TASK_DEFAULT_QUEUE=queue,
            # Two workers of four threads: eight requests in the application at once.
            GUNICORN_THREADS="4",
        )
        manage("migrate", "--noinput", env=env)
        with deleting_queue(queue), gunicorn(env, workers=2) as base:
            _race(base)


def _race(base: str) -> None:
    owner = HttpSession(base)
    owner.fetch_csrf()
    # The first task makes the caller an owner (its session), as a browser would be.
    status, first, _ = owner.request("POST", "/api/v1/tasks/", _body(0))
    assert status == 202, first

    for round_ in range(1, ROUNDS + 1):
        answers = _all_at_once(owner, f"race-{round_}", _body(round_))
        statuses = sorted(status for status, _, _ in answers)
        assert statuses == [200] * (PARALLEL - 1) + [202], [a[:2] for a in answers]
        assert len({task["id"] for _, task, _ in answers}) == 1, answers

    status, listed, _ = owner.request("GET", "/api/v1/tasks/?page_size=100")
    assert status == 200
    assert listed["count"] == ROUNDS + 1  # one task per key, and the first


def _all_at_once(owner: HttpSession, key: str, body: dict) -> list:
    """``PARALLEL`` copies of one request by ``owner``, let go at the same moment."""
    barrier = Barrier(PARALLEL)

    def send(_: int):
        browser = _Keyed(f"http://{owner.host}:{owner.port}", key)
        browser.cookies, browser.csrf = dict(owner.cookies), owner.csrf
        barrier.wait()
        return browser.request("POST", "/api/v1/tasks/", body)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(send, range(PARALLEL)))


def _body(n: int) -> dict:
    return {"name": "demo.add", "args": {"a": n, "b": 1}}


class _Keyed(HttpSession):
    def __init__(self, base: str, key: str) -> None:
        super().__init__(base)
        self.headers = {**HttpSession.headers, "Idempotency-Key": key}
