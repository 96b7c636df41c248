"""Dependencies taken away mid-run: the API answers 503 problem+json, never 500,
and nothing stored is lost once they come back."""

from __future__ import annotations

import pytest

from tests.conftest import need
from tests.namespace import REDIS_PORT, postgres_available, redis_available, service_cache_url
from tests.servers import (
    HttpSession,
    TcpProxy,
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


def test_database_cut_answers_503_and_loses_nothing(tmp_path):
    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432")
    with postgres_database("faults") as database:
        proxy = TcpProxy(5432)
        try:
            env = service_env(
                SESSION_ENGINE="db", DATABASE_URL=postgres_url(database, port=proxy.port)
            )
            manage("migrate", "--noinput", env=env)
            with gunicorn(env, workers=2) as base:
                exercise_outage(base, proxy, "database")
        finally:
            proxy.cut()


def test_redis_cut_under_the_cache_engine_answers_503(tmp_path):
    need(redis_available(), "Redis at 127.0.0.1:6379")
    proxy = TcpProxy(REDIS_PORT)
    try:
        env = service_env(
            SESSION_ENGINE="cache",
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            # The run's Redis database through the proxy, in a namespace of its own.
            CACHE_URL=service_cache_url(port=proxy.port),
        )
        manage("migrate", "--noinput", env=env)
        with gunicorn(env, workers=2) as base:
            exercise_outage(base, proxy, "cache")
    finally:
        proxy.cut()
