"""One definition per response shape: the serializer the schema shows also writes the wire.

A serializer declares a shape once (field names, order, nesting, nullability) and
drf-spectacular documents it. Building a DRF serializer per response deep-copies its
fields, which costs more than the rest of a hot request (the session object: about
0.3 ms), so ``Shape`` compiles the declared fields once into a plain function: it
takes exactly the declared keys, in order, recursing into nested serializers, passes
values that are JSON-ready as they are, and leaves the rest (date-times) to the field's
own ``to_representation``. A key the data lacks is an error, a key it has beyond the
shape is not sent: what the schema shows is what the code sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rest_framework import serializers

# Fields whose representation of a value of their own type is the value itself (the
# JSON renderer writes UUIDs as strings, like UUIDField would).
_AS_IS = (
    serializers.BooleanField,
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DictField,
    serializers.FloatField,
    serializers.IntegerField,
    serializers.JSONField,
    serializers.UUIDField,
)

Render = Callable[[Mapping[str, Any]], dict[str, Any]]


def _compile(serializer: serializers.Serializer) -> Render:
    steps: list[tuple[str, Callable[[Any], Any] | None]] = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        convert: Callable[[Any], Any] | None
        if isinstance(field, serializers.ListSerializer):
            convert = _many(_compile(field.child))  # type: ignore[arg-type]  # a Serializer
        elif isinstance(field, serializers.Serializer):
            convert = _compile(field)
        elif isinstance(field, _AS_IS):
            convert = None
        else:
            convert = field.to_representation
        steps.append((name, convert))

    def render(data: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, convert in steps:
            value = data[name]
            out[name] = value if convert is None or value is None else convert(value)
        return out

    return render


def _many(render: Render) -> Callable[[Any], list[dict[str, Any]]]:
    return lambda items: [render(item) for item in items]


class Shape:
    """The wire form of one response shape, from the serializer that declares it."""

    def __init__(self, serializer_class: type[serializers.Serializer]) -> None:
        self.serializer_class = serializer_class
        self._render: Render | None = None

    def render(self, data: Mapping[str, Any]) -> dict[str, Any]:
        if self._render is None:  # compiled on first use: fields need the app registry
            self._render = _compile(self.serializer_class())
        return self._render(data)

    def render_many(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [self.render(item) for item in items]
