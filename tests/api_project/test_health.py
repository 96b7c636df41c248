"""Probes: /healthz touches nothing, /readyz checks what the engine depends on."""

from __future__ import annotations

import pytest
from django.test import override_settings


@pytest.fixture
def only_core_checks(monkeypatch):
    """Readiness with the broker check passing (the broker has its own tests)."""
    monkeypatch.setattr("api_project.health.check_broker", lambda: None)


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_check_with_latency(client, engine, only_core_checks):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert isinstance(body["checks"]["database"]["ms"], float)
    assert ("cache" in body["checks"]) is (engine in {"cache", "cached_db"})


def test_readyz_is_503_when_the_cache_is_down(client, engine, only_core_checks):
    if engine not in {"cache", "cached_db"}:
        pytest.skip("Only the cache engines depend on the cache.")
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead):  # Django rebuilds its cache handlers for this
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unavailable"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
