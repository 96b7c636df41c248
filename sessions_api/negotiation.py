"""Content negotiation with a fast path for the API's one renderer (see ``parsers``)."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

_PLAIN_ACCEPT = {"", "*/*", "application/json"}


class JsonNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, minus parsing ``Accept`` when the answer cannot differ."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        meta = request.META
        if (
            len(renderers) == 1
            and not format_suffix
            and not meta.get("QUERY_STRING")
            and meta.get("HTTP_ACCEPT", "") in _PLAIN_ACCEPT
        ):
            return renderers[0], str(renderers[0].media_type)
        return super().select_renderer(request, renderers, format_suffix)
