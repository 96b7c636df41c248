"""How drf-spectacular describes our session authentication."""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CsrfSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_api.authentication.CsrfSessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The Django session cookie. Unsafe methods also need the "
            "`X-CSRFToken` header (see `GET /api/v1/auth/csrf/`).",
        }
