"""Dependencies taken away mid-run: the API answers 503 problem+json, never 500,
and nothing stored is lost once they come back."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.namespace import (
    REDIS_PORT,
    queue_name,
    service_cache_url,
)
from tests.servers import (
    HttpSession,
    TcpProxy,
    delete_queue,
    gunicorn,
    manage,
    postgres_database,
    postgres_url,
    service_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.standalone]


def assert_unavailable(status: int, body, headers) -> None:
    assert status == 503, (status, body)
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "unavailable"


def exercise_outage(base: str, proxy: TcpProxy, failing_check: str) -> None:
    browser = HttpSession(base)
    browser.fetch_csrf()
    assert browser.request("PUT", "/api/v1/session/keys/kept/", {"value": [1, 2]})[0] == 201

    proxy.cut()
    for method, path, body in [
        ("GET", "/api/v1/session/keys/", None),
        ("GET", "/api/v1/session/", None),
        ("PUT", "/api/v1/session/keys/new/", {"value": 1}),
        ("DELETE", "/api/v1/session/keys/kept/", None),
    ]:
        status, payload, headers = browser.request(method, path, body)
        assert_unavailable(status, payload, headers)
    status, payload, headers = browser.request("GET", "/readyz")
    assert_unavailable(status, payload, headers)
    assert payload["checks"][failing_check]["ok"] is False
    assert browser.request("GET", "/healthz")[0] == 200

    proxy.restore()
    status, items, _ = browser.request("GET", "/api/v1/session/keys/")
    assert status == 200
    assert items == [{"key": "kept", "value": [1, 2]}]
    assert browser.request("GET", "/readyz")[0] == 200


def exercise_auth_and_tasks_outage(base: str, proxy: TcpProxy) -> None:
    """Logins and tasks with the database cut: 503 for each, and all there afterwards."""
    user = HttpSession(base)
    user.fetch_csrf()
    account = {"username": "outage-user", "password": PASSWORD}
    assert user.request("POST", "/api/v1/auth/register/", account)[0] == 201
    user.csrf = user.cookies["csrftoken"]
    status, task, _ = user.request(
        "POST", "/api/v1/tasks/", {"name": "demo.add", "args": {"a": 1, "b": 2}}
    )
    assert status == 202, task
    stranger = HttpSession(base)
    stranger.fetch_csrf()

    proxy.cut()
    for browser, method, path, body in [
        (stranger, "POST", "/api/v1/auth/login/", account),
        (stranger, "POST", "/api/v1/auth/register/", {**account, "username": "another"}),
        (user, "GET", "/api/v1/auth/me/", None),
        (user, "GET", "/api/v1/auth/sessions/", None),
        (user, "POST", "/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "x"}),
        (user, "POST", "/api/v1/auth/logout/", None),
        (user, "POST", "/api/v1/tasks/", {"name": "demo.add", "args": {"a": 2, "b": 2}}),
        (user, "GET", "/api/v1/tasks/", None),
        (user, "GET", f"/api/v1/tasks/{task['id']}/", None),
        (user, "POST", f"/api/v1/tasks/{task['id']}/cancel/", None),
    ]:
        status, payload, headers = browser.request(method, path, body)
        assert_unavailable(status, payload, headers)

    proxy.restore()
    # Still logged in, with its one task; the login that was refused works now.
    assert user.request("GET", "/api/v1/auth/me/")[1]["username"] == "outage-user"
    status, listed, _ = user.request("GET", "/api/v1/tasks/")
    assert status == 200 and [item["id"] for item in listed["results"]] == [task["id"]]
    assert stranger.request("POST", "/api/v1/auth/login/", account)[0] == 200


def test_database_cut_answers_503_and_loses_nothing(tmp_path, postgres_server, rabbitmq_server):
    queue = queue_name("faults")
    with postgres_database("faults") as database:
        proxy = TcpProxy(5432)
        try:
            env = service_env(
                SESSION_ENGINE="db",
                DATABASE_URL=postgres_url(database, port=proxy.port),
                CELERY_TASK_DEFAULT_QUEUE=queue,
            )
            manage("migrate", "--noinput", env=env)
            with gunicorn(env, workers=2) as base:
                exercise_outage(base, proxy, "database")
                exercise_auth_and_tasks_outage(base, proxy)
        finally:
            proxy.cut()
            delete_queue(queue)


@pytest.mark.parametrize("engine", ["cache", "cached_db"])
def test_redis_cut_under_a_cache_engine_answers_503_and_loses_nothing(
    tmp_path, engine, redis_server
):
    """``cached_db`` too: its database holds every session, but a store that cannot
    reach its cache refuses (503) rather than serve and write around it, which would
    leave the cache stale once Redis is back."""
    proxy = TcpProxy(REDIS_PORT)
    try:
        env = service_env(
            SESSION_ENGINE=engine,
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            # The run's Redis database through the proxy, in a namespace of its own.
            CACHE_URL=service_cache_url(port=proxy.port),
        )
        manage("migrate", "--noinput", env=env)
        with gunicorn(env, workers=2) as base:
            exercise_outage(base, proxy, "cache")
    finally:
        proxy.cut()
