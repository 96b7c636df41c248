"""Facts about the client of a request: its address and its user agent."""

from __future__ import annotations

from django.http import HttpRequest

from sessions_api.conf import app_settings

USER_AGENT_MAX = 256


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting ``TRUSTED_PROXY_COUNT`` proxies in front.

    With N trusted proxies, the client is the N-th address from the right of
    X-Forwarded-For; with none (the default) the header is ignored, since any client
    can send it.
    """
    proxies = app_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR") or None


def client_user_agent(request: HttpRequest) -> str:
    """The ``User-Agent`` header, cut to what the registry keeps."""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]
