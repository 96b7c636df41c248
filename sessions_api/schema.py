"""How drf-spectacular describes the apps: the auth scheme, problem responses, hooks.

``problems()`` gives an operation its error responses as problem+json; the cookie
authentication scheme is registered when the app is ready; ``exactly_one_of`` is a
postprocessing hook a project lists in ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from sessions_api.problems import PROBLEM_CONTENT_TYPE
from sessions_api.serializers import ExpiryUpdateSerializer


class CsrfSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_api.authentication.CsrfSessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": str(settings.SESSION_COOKIE_NAME),
            "description": "The Django session cookie. Unsafe methods also need the "
            "`X-CSRFToken` header (see `GET /api/v1/auth/csrf/`).",
        }


# --- Problem responses -------------------------------------------------------------


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
    # A declared field (DRF's metaclass takes it off the class), not Serializer.errors.
    errors = FieldErrorSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="Only for field validation."
    )


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


# --- Postprocessing ------------------------------------------------------------------

# Request bodies that must hold exactly one of several fields.
EXACTLY_ONE_OF = {
    "ExpiryUpdateRequest": list(ExpiryUpdateSerializer.FORMS),
}


def exactly_one_of(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Add ``oneOf`` alternatives so clients and fuzzers know only one field may be sent."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, fields in EXACTLY_ONE_OF.items():
        if name in schemas:
            schemas[name]["oneOf"] = [{"required": [field]} for field in fields]
    return result
