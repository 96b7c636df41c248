"""Content negotiation with a fast path for the API's one renderer."""

from rest_framework.negotiation import DefaultContentNegotiation

_PLAIN_ACCEPT = {"", "*/*", "application/json"}


class JsonNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, minus parsing ``Accept`` when the answer cannot differ."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            len(renderers) == 1
            and not format_suffix
            and not request._request.META.get("QUERY_STRING")
            and request._request.META.get("HTTP_ACCEPT", "") in _PLAIN_ACCEPT
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
