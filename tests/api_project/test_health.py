"""Probes: /healthz touches nothing, /readyz checks what the service depends on."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.settings import REDIS_AVAILABLE
from tests.support.caches import DEAD_CACHE, LOCMEM_CACHE
from tests.support.clients import Client
from tests.support.engines import any_engine


@pytest.fixture
def only_core_checks(monkeypatch):
    """Readiness with the broker check passing (the broker has its own tests)."""
    monkeypatch.setattr("api_project.health.check_broker", lambda: None)


@any_engine
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
    # The cache is checked when it is a server (Redis here), whatever the engine.
    assert ("cache" in body["checks"]) is REDIS_AVAILABLE
    if REDIS_AVAILABLE:
        assert body["checks"]["cache"]["ok"] is True


@override_settings(CACHES=LOCMEM_CACHE)
def test_readyz_leaves_out_a_local_memory_cache(db, only_core_checks):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert "cache" not in response.json()["checks"]


def test_readyz_is_503_when_the_cache_is_down_on_every_engine(
    client, engine, only_core_checks, caplog
):
    with override_settings(CACHES=DEAD_CACHE):  # Django rebuilds its cache handlers for this
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unavailable"
    assert "cache" in body["detail"]
    assert body["checks"]["cache"] == {"ok": False, "ms": body["checks"]["cache"]["ms"]}
    assert body["checks"]["database"]["ok"] is True
    # Nothing of the exception (host, port, error text) reaches the body; the log has it.
    assert "127.0.0.1" not in response.content.decode()
    assert "Error" not in response.content.decode()
    assert any("127.0.0.1:1" in record.getMessage() for record in caplog.records)


def test_readyz_shows_the_exception_text_in_debug(db, only_core_checks):
    with override_settings(CACHES=DEAD_CACHE, DEBUG=True):
        response = Client().get("/readyz")
    assert response.status_code == 503
    error = response.json()["checks"]["cache"]["error"]
    assert error.startswith("ConnectionError") and "127.0.0.1:1" in error


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https(settings):
    """A container's health check asks over plain HTTP; a redirect would read as down."""
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # built after the setting: the middleware reads it once
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/session/").status_code == 301
