"""The registry and GET /api/v1/tasks/types/: schemas derived from the serializers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured

from api_project.celery import app
from sessions_api.fields import StrictCharField, StrictIntegerField
from tasks_api.registry import REGISTRY, ArgsSerializer
from tasks_api.runtime import task_type
from tasks_api.text import text_stats
from tests.support.clients import Client


@pytest.fixture
def types(db: None) -> dict[str, dict]:
    response = Client().get("/api/v1/tasks/types/")
    assert response.status_code == 200
    return {item["name"]: item for item in response.json()}


def test_types_lists_every_built_in_type_with_who_may_run_it(types):
    assert {name: item["requires"] for name, item in types.items()} == {
        "demo.add": "anyone",
        "demo.fail": "anyone",
        "demo.sleep": "anyone",
        "mail.send": "user",
        "sessions.clear_expired": "staff",
        "text.stats": "anyone",
    }
    assert all(item["description"] for item in types.values())


def test_type_schemas_carry_limits_and_defaults_from_the_serializers(types):
    sleep = types["demo.sleep"]["args"]
    assert sleep["type"] == "object" and sleep["additionalProperties"] is False
    assert sleep["required"] == ["seconds"]
    assert (
        sleep["properties"]["seconds"].items()
        >= {
            "type": "number",
            "minimum": 0,
            "maximum": 600,
        }.items()
    )
    assert (
        sleep["properties"]["steps"].items()
        >= {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "default": 10,
        }.items()
    )
    stats = types["text.stats"]["args"]["properties"]
    assert stats["text"]["maxLength"] == 1024 * 1024
    assert stats["top"].items() >= {"minimum": 1, "maximum": 100, "default": 10}.items()
    mail = types["mail.send"]["args"]["properties"]
    assert mail["to"].items() >= {"type": "array", "minItems": 1, "maxItems": 50}.items()
    assert mail["to"]["items"]["format"] == "email"
    assert mail["subject"]["maxLength"] == 200
    assert mail["body"]["maxLength"] == 100000
    add = types["demo.add"]["args"]
    assert add["required"] == ["a", "b"]
    assert add["properties"]["a"]["type"] == "number"
    assert types["sessions.clear_expired"]["args"]["properties"] == {}
    assert "$ref" not in str(types)


@pytest.fixture
def echo_type() -> Iterator[str]:
    """A type added the documented way, removed again afterwards."""

    class EchoArgs(ArgsSerializer):
        text = StrictCharField(max_length=10, help_text="What to echo.")
        times = StrictIntegerField(min_value=1, max_value=3, default=1)

    @task_type("tests.echo", args=EchoArgs, requires="user")
    def echo(task, *, text: str, times: int = 1) -> str:
        """Echo a text."""
        return text * times

    yield "tests.echo"
    REGISTRY.pop("tests.echo")
    app.tasks.pop("tests.echo", None)


def test_adding_a_type_is_one_decorated_function_and_its_serializer(echo_type, db):
    listed = {item["name"]: item for item in Client().get("/api/v1/tasks/types/").json()}
    echo = listed[echo_type]
    assert echo["description"] == "Echo a text."
    assert echo["requires"] == "user"
    assert echo["args"]["properties"]["text"] == {
        "type": "string",
        "description": "What to echo.",
        "minLength": 1,
        "maxLength": 10,
    }
    assert echo["args"]["properties"]["times"]["default"] == 1
    assert app.tasks[echo_type].name == echo_type


def test_a_name_cannot_be_registered_twice():
    class Args(ArgsSerializer):
        pass

    with pytest.raises(ImproperlyConfigured):
        task_type("demo.add", args=Args)(lambda task: None)


def test_requires_must_be_known():
    class Args(ArgsSerializer):
        pass

    with pytest.raises(ImproperlyConfigured):
        task_type("tests.never", args=Args, requires="admins")  # type: ignore[arg-type]


def test_text_stats_counts_and_ranks_words():
    stats = text_stats(text="The cat. the DOG, the cat!\nDon't stop\n", top=3)
    assert stats == {
        "characters": 38,
        "words": 8,
        "lines": 2,
        "top_words": [["the", 3], ["cat", 2], ["dog", 1]],
    }
    assert text_stats(text="", top=5) == {"characters": 0, "words": 0, "lines": 0, "top_words": []}
