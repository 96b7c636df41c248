"""An SPA on another origin: CORS with credentials, and CSRF trusted origins."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.support.clients import Client


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_preflight_from_an_allowed_origin_allows_credentials_and_the_csrf_header():
    client = Client()
    response = client.options(
        "/api/v1/session/keys/a/",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-csrftoken",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "x-csrftoken" in response["Access-Control-Allow-Headers"].lower()
    assert "PUT" in response["Access-Control-Allow-Methods"]


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_other_origins_get_no_cors_headers():
    response = Client().get("/api/v1/session/", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
@override_settings(CSRF_TRUSTED_ORIGINS=["https://app.example.com"])
def test_unsafe_call_from_a_trusted_origin_passes_csrf_and_others_do_not():
    client = Client()
    token = client.csrf()
    ok = client.send(
        "PUT",
        "/api/v1/session/keys/a/",
        {"value": 1},
        HTTP_ORIGIN="https://app.example.com",
        HTTP_X_CSRFTOKEN=token,
    )
    assert ok.status_code == 201, ok.content
    refused = client.send(
        "PUT",
        "/api/v1/session/keys/a/",
        {"value": 2},
        HTTP_ORIGIN="https://evil.example.com",
        HTTP_X_CSRFTOKEN=token,
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
