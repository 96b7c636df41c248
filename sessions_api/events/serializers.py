"""The data of each event type, declared for the OpenAPI schema (components)."""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from sessions_api.events.sessions import SESSION_REASONS


class SessionEventSerializer(serializers.Serializer):
    """`event: session`: this session ended or changed key; the stream ends after it."""

    id = serializers.CharField(help_text="The session's public id (its fingerprint).")
    reason = serializers.ChoiceField(
        choices=SESSION_REASONS,
        help_text="`logout`, `revoked` (from another device), `flushed`, "
        "`password_changed` (elsewhere), `expired`, or `rotated` (login, register, "
        "`cycle`, password change: reconnect, the cookie has the new key).",
    )


class ResetEventSerializer(serializers.Serializer):
    """`event: reset`: the `Last-Event-ID` is older than what is kept (or from another
    owner's stream): re-read the state, then carry on with this stream."""


class ResetEventScheme(OpenApiSerializerExtension):
    """`{}`: drf-spectacular leaves out the component of a serializer without fields."""

    target_class = ResetEventSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "description": inspect.getdoc(ResetEventSerializer),
            "additionalProperties": False,
        }
