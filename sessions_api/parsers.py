"""Request parsing: JSON only, and no malformed body can reach a 500.

Its own module, free of DRF's view machinery, so that a project's ``REST_FRAMEWORK``
setting may name it (DRF imports the classes it names when its views module loads).
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, plus the failures it lets through.

    ``json`` raises ``RecursionError`` on deeply nested input (about a thousand levels),
    which DRF does not catch; here it is a ``parse_error`` like any other bad body.
    NaN and Infinity are already refused by DRF's strict constant parsing.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
