"""drf-spectacular, used outside a schema run: one serializer mapped to JSON Schema.

``GET /api/v1/tasks/types/`` shows each type's arguments as JSON Schema, mapped by the
same machinery that writes ``openapi/schema.yaml``, so limits, defaults and help texts
read the same in both. drf-spectacular maps serializers only inside a schema
generation; ``AutoSchema.resolve_serializer()`` and ``ComponentRegistry.build()`` are
the least private entry points, but an ``AutoSchema`` outside a generator needs its
``registry``, ``view``, ``method`` and ``path`` set by hand (what the generator does).
``tests/tasks_api/test_registry.py`` fails if that stops working.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from rest_framework import serializers
from rest_framework.views import APIView


def serializer_json_schema(serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """The request-side JSON Schema of a flat serializer (no nested serializers)."""
    schema = AutoSchema()
    schema.registry = ComponentRegistry()
    view = APIView()
    # drf-spectacular builds a serializer context from the view; there is no request.
    view.request = None  # type: ignore[assignment]
    schema.view = view
    schema.method, schema.path = "POST", "/"
    component = schema.resolve_serializer(serializer_class(), "request")
    components = schema.registry.build({}).get("schemas", {})
    if len(components) > 1:  # the arguments' own component, and a nested one
        raise ImproperlyConfigured(
            f"{serializer_class.__name__}: task arguments must be flat JSON fields."
        )
    # drf-spectacular drops the component of a serializer without fields (no arguments).
    return dict(component.schema) if component.schema else {"type": "object", "properties": {}}


def documented_as(view: Any, docs: type[APIView]) -> Any:
    """``view`` (a plain Django view function), described in the schema by ``docs``.

    DRF's and drf-spectacular's endpoint enumerators take a URL pattern's callback for
    an API view when it has a ``cls`` that is an ``APIView`` (what ``as_view()`` sets),
    and read ``initkwargs`` beside it; an asynchronous Django view can then appear in
    the schema with the operations ``docs`` declares, while Django keeps dispatching
    to ``view``. ``tests/sessions_api/test_internals.py`` fails if that stops working.
    """
    view.cls = docs
    view.initkwargs = {}
    return view
