"""The HTML pages that carry a Content-Security-Policy, and the header's parser."""

from __future__ import annotations

HTML_PAGES = ["/", "/api/docs/", "/api/redoc/", "/admin/login/"]


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [values]}."""
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed
