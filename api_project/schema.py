"""OpenAPI pieces shared by every app: the problem document and its responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from api_project.errors import PROBLEM_CONTENT_TYPE


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="Dotted path of the field ('non_field_errors' for the body)."
    )
    code = serializers.CharField(help_text="Machine-readable reason, e.g. 'required'.")
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document; every 4xx/5xx answer has this shape."""

    type = serializers.CharField(default="about:blank")
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="The contract's error code, e.g. 'invalid_key'.")
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False, help_text="Only for field validation.")


# What each status means across the API; endpoints list the ones they can answer.
_DESCRIPTIONS = {
    400: "Bad input: `parse_error`, `invalid` (see `errors`), or an endpoint-specific code.",
    403: "`csrf_failed` (missing or wrong `X-CSRFToken`), `not_authenticated` or "
    "`permission_denied`.",
    404: "`not_found`.",
    405: "`method_not_allowed`.",
    409: "A conflict with the current state.",
    413: "`request_too_large`, or a session limit: `value_too_large`, "
    "`session_too_large`, `too_many_keys`.",
    415: "`unsupported_media_type`: send `Content-Type: application/json`.",
    429: "`throttled`; see `Retry-After`.",
    503: "A dependency is down: `unavailable`.",
}


def problems(*statuses: int, **descriptions: str) -> dict[Any, OpenApiResponse]:
    """Error responses for ``extend_schema(responses=...)``, as problem+json.

    ``descriptions`` may override the text of one status: ``s409="..."``.
    """
    responses: dict[Any, OpenApiResponse] = {}
    for status in statuses:
        text = descriptions.get(f"s{status}", _DESCRIPTIONS[status])
        responses[(status, PROBLEM_CONTENT_TYPE)] = OpenApiResponse(
            ProblemSerializer, description=text
        )
    return responses
