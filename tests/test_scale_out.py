"""Scale-out: two gunicorn instances and two Celery workers sharing PostgreSQL, Redis
and RabbitMQ, as behind a load balancer. Whatever one instance does, the other sees.

The cluster lives in this run's namespace (tests/namespace.py): its own database, cache
prefix and queue, all deleted with the module. A fixed cache namespace would keep the
registration throttle's count (20 an hour from 127.0.0.1) from run to run.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.namespace import (
    cache_url,
    delete_cache_keys,
    queue_name,
    service_key_prefix,
)
from tests.servers import (
    HttpSession,
    celery_worker,
    gunicorn,
    manage,
    postgres_database,
    postgres_url,
    service_env,
)
from tests.support.polling import wait_for_over_http as wait_for
from tests.support.sse import Browser, all_finished, task_events
from tests.support.workers import deleting_queue

pytestmark = [pytest.mark.integration, pytest.mark.standalone]


@pytest.fixture(scope="module")
def cluster_env(
    postgres_server: None, redis_server: None, rabbitmq_server: None
) -> Iterator[dict[str, str]]:
    queue = queue_name("scale-out")
    key_prefix = service_key_prefix()
    with postgres_database("scale_out") as database:
        env = service_env(
            DATABASE_URL=postgres_url(database),
            CACHE_URL=cache_url(key_prefix),
            CELERY_TASK_DEFAULT_QUEUE=queue,
        )
        manage("migrate", "--noinput", env=env)
        try:
            with (
                deleting_queue(queue),
                celery_worker(env, queue=queue, name="w1"),
                celery_worker(env, queue=queue, name="w2"),
            ):
                yield env
        finally:
            delete_cache_keys(key_prefix)


def on(base: str, browser: HttpSession) -> HttpSession:
    """The same browser (cookies, CSRF token) talking to another instance."""
    other = HttpSession(base)
    other.cookies, other.csrf = browser.cookies, browser.csrf
    return other


@pytest.mark.parametrize("engine", ["db", "cache", "cached_db"])
def test_two_instances_and_two_workers_act_as_one_service(cluster_env, engine):
    env = {**cluster_env, "SESSION_ENGINE": engine}
    with gunicorn(env, workers=2) as a_base, gunicorn(env, workers=2) as b_base:
        a = HttpSession(a_base)
        a.fetch_csrf()
        b = on(b_base, a)

        # Keys: set on A, read, change and delete on B.
        assert a.request("PUT", "/api/v1/session/keys/cart/", {"value": [1]})[0] == 201
        assert b.request("GET", "/api/v1/session/keys/cart/")[1] == {"key": "cart", "value": [1]}
        assert b.request("PUT", "/api/v1/session/keys/cart/", {"value": [1, 2]})[0] == 200
        assert a.request("GET", "/api/v1/session/keys/cart/")[1]["value"] == [1, 2]
        assert b.request("DELETE", "/api/v1/session/keys/cart/")[0] == 204
        assert a.request("GET", "/api/v1/session/keys/cart/")[0] == 404

        # Login on A is valid on B; logout on B ends it on A.
        user = f"scale{uuid.uuid4().hex[:8]}"
        password = "scale out passphrase 31"
        status, _, _ = a.request(
            "POST", "/api/v1/auth/register/", {"username": user, "password": password}
        )
        assert status == 201
        a.csrf = a.cookies["csrftoken"]
        b = on(b_base, a)
        assert b.request("GET", "/api/v1/auth/me/")[1]["username"] == user
        old_cookie = dict(a.cookies)
        assert b.request("POST", "/api/v1/auth/logout/")[0] == 204
        replay = HttpSession(a_base)
        replay.cookies = old_cookie
        assert replay.request("GET", "/api/v1/auth/me/")[0] == 403

        # Tasks: enqueue on A, poll on B, cancel on B; either worker runs them.
        anon = HttpSession(a_base)
        anon.fetch_csrf()
        ids = []
        for n in range(8):
            status, task, _ = anon.request(
                "POST", "/api/v1/tasks/", {"name": "demo.add", "args": {"a": n, "b": 1}}
            )
            assert status == 202, task
            ids.append(task["id"])
        anon_b = on(b_base, anon)
        results = [wait_for(anon_b, task_id, {"SUCCESS", "FAILURE"}) for task_id in ids]
        assert [r["status"] for r in results] == ["SUCCESS"] * 8
        assert [r["result"] for r in results] == [n + 1 for n in range(8)]

        status, sleeper, _ = anon.request(
            "POST", "/api/v1/tasks/", {"name": "demo.sleep", "args": {"seconds": 30, "steps": 60}}
        )
        assert status == 202
        wait_for(anon_b, sleeper["id"], {"STARTED", "PROGRESS"})
        started = time.monotonic()
        assert anon_b.request("POST", f"/api/v1/tasks/{sleeper['id']}/cancel/")[0] == 202
        final = wait_for(anon, sleeper["id"], {"REVOKED", "SUCCESS", "FAILURE"}, seconds=10)
        assert final["status"] == "REVOKED"
        cancelled_in = time.monotonic() - started

    workers = Counter(_worker_of(cluster_env["DATABASE_URL"], task_id) for task_id in ids)
    print(
        f"\n{engine}: keys A->B ok, login A / logout B ok, 8 demo.add enqueued on A and "
        f"polled on B, run by {dict(workers)}, demo.sleep cancelled on B: REVOKED in "
        f"{cancelled_in:.2f} s"
    )
    # Both workers took part; not an exact 4/4, which depends on who acknowledged first.
    assert set(workers) == {"w1", "w2"}, dict(workers)
    # How fast it went is printed above, not asserted (figures belong in bench/): the
    # wait_for deadline of 10 s is the contract's bound for a cancel to reach REVOKED.


def _worker_of(database_url: str, task_id: str) -> str:
    import psycopg

    url = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT worker FROM django_celery_results_taskresult WHERE task_id = %s", (task_id,)
        ).fetchone()
    return (row[0] or "?").split("@")[0] if row else "?"


def test_a_task_enqueued_on_one_instance_streams_its_events_on_the_other(cluster_env):
    # The event store is the cluster's cache Redis (no EVENTS_REDIS_URL): the workers
    # and both instances publish there, and B's stream hears what A's enqueue started.

    env = {**cluster_env, "SESSION_ENGINE": "cached_db"}
    with gunicorn(env, workers=2) as a_base, gunicorn(env, workers=2) as b_base:
        on_a = Browser(a_base)
        on_a.fetch_csrf()
        on_a.request("PUT", "/api/v1/session/keys/k/", {"value": 1})
        with on_a.use(b_base).stream() as on_b:
            sleeper = on_a.enqueue("demo.sleep", {"seconds": 1, "steps": 4})
            adds = [on_a.enqueue("demo.add", {"a": n, "b": n}) for n in range(4)]
            seen = on_b.until(all_finished([task["id"] for task in [sleeper, *adds]]))
    sleeps = task_events(seen, sleeper["id"])
    assert [t["progress"]["current"] for t in sleeps if t["status"] == "PROGRESS"] == [1, 2, 3, 4]
    assert sleeps[-1]["status"] == "SUCCESS"
    for n, task in enumerate(adds):
        assert task_events(seen, task["id"])[-1]["result"] == 2 * n
