"""Facts about the client of a request: its address and its user agent."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from sessions_api.conf import app_settings

USER_AGENT_MAX = 256


def _address(value: str) -> str | None:
    """``value`` when it is an IP address, or None.

    The registry stores the address (a PostgreSQL ``inet`` column) and the throttles
    key on it: text that is no address, or an IPv6 zone (``fe80::1%eth0``, which
    ``inet`` refuses), is never passed on.
    """
    value = value.strip()
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return None
    return value


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting ``TRUSTED_PROXY_COUNT`` proxies in front.

    With N trusted proxies, the client is the N-th address from the right of
    X-Forwarded-For; with none (the default) the header is ignored, since any client
    can send it. An entry there that is not an IP address is ignored too, and the
    connection's own address (``REMOTE_ADDR``) is taken instead.
    """
    proxies = app_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            address = _address(forwarded[-min(proxies, len(forwarded))])
            if address is not None:
                return address
    return _address(str(request.META.get("REMOTE_ADDR") or ""))


def client_user_agent(request: HttpRequest) -> str:
    """The ``User-Agent`` header, cut to what the registry keeps."""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]
