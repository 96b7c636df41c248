"""``Shape``: the wire form compiled from a serializer sends exactly its declared fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from sessions_api.responses import Shape


class Inner(serializers.Serializer):
    at = serializers.DateTimeField()


class Outer(serializers.Serializer):
    name = serializers.CharField()
    inner = Inner(allow_null=True)
    items = Inner(many=True)
    secret = serializers.CharField(write_only=True)


def test_a_shape_sends_the_declared_fields_in_order_and_nothing_else():
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    data = {
        "extra": "not declared",
        "items": [{"at": moment}],
        "inner": {"at": moment, "also": 1},
        "name": "n",
        "secret": "write only",
    }
    rendered = Shape(Outer).render(data)
    assert list(rendered) == ["name", "inner", "items"]
    assert rendered == {
        "name": "n",
        "inner": {"at": "2026-12-01T09:30:00Z"},
        "items": [{"at": "2026-12-01T09:30:00Z"}],
    }
    assert rendered == Outer(data).data  # DRF's own rendering of the same serializer


def test_a_shape_refuses_data_without_a_declared_field():
    with pytest.raises(KeyError):
        Shape(Outer).render({"name": "n", "inner": None})


def test_null_stays_null_for_a_nullable_nested_shape():
    assert Shape(Outer).render({"name": "n", "inner": None, "items": []})["inner"] is None
