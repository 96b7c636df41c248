"""Problem documents for everything Django and DRF answer on their own."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.views import APIView

from tests.support.api import key_url, listing
from tests.support.engines import any_engine
from tests.support.problems import problem

# Django and DRF answer these before any view reads or writes the session.
pytestmark = any_engine


def test_unknown_url_under_api_is_a_problem(client):
    problem(client.get("/api/v1/nothing-here/"), 404, "not_found")


def test_unknown_url_elsewhere_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "problem+json" not in response["Content-Type"]


def test_wrong_method_is_405(client):
    problem(client.send("PATCH", key_url("a"), {"value": 1}), 405, "method_not_allowed")
    problem(
        client.send("POST", "/api/v1/session/expiry/", {"seconds": 1}), 405, "method_not_allowed"
    )
    problem(client.send("PUT", "/api/v1/session/", {}), 405, "method_not_allowed")


def test_non_json_body_is_a_parse_error(client):
    client.send("PUT", key_url("keep"), {"value": 1})
    for body in ["{", "nope", '{"value": 1', b"\xff\xfe"]:
        problem(
            client.generic("PUT", key_url("keep"), body, "application/json"), 400, "parse_error"
        )
    assert listing(client) == {"keep": 1}


def test_wrong_content_type_is_415(client):
    response = client.generic("PUT", key_url("a"), "value=1", "application/x-www-form-urlencoded")
    problem(response, 415, "unsupported_media_type")
    response = client.generic("PUT", key_url("a"), "<value/>", "text/xml")
    problem(response, 415, "unsupported_media_type")


def test_oversized_body_is_413_before_anything_changes(client):
    client.send("PUT", key_url("keep"), {"value": 1})
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2048):
        body = '{"value": "' + "x" * 4096 + '"}'
        problem(
            client.generic("PUT", key_url("big"), body, "application/json"),
            413,
            "request_too_large",
        )
    assert listing(client) == {"keep": 1}


def test_body_that_is_not_an_object_is_invalid(client):
    for body in ["[]", '"text"', "1", "null"]:
        response = client.generic("PUT", key_url("a"), body, "application/json")
        # Valid JSON, so not a parse_error: a validation error of the body as a whole.
        body_problem = problem(response, 400, "invalid")
        (error,) = body_problem["errors"]
        assert error["field"] == "non_field_errors" and error["message"], body_problem
    assert listing(client) == {}


class Boom(APIView):
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [path("api/v1/boom/", Boom.as_view())]
handler500 = "sessions_api.problems.server_error"


@pytest.mark.urls("tests.api_project.test_errors")
@pytest.mark.django_db
def test_an_uncaught_error_is_a_500_problem_without_internals():
    from tests.support.clients import Client

    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 500 and body["code"] == "error"
    assert "boom" not in response.content.decode()
