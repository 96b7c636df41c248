"""Strict JSON fields: each accepts exactly its JSON type (task arguments, auth input).

DRF's fields are lenient in ways a task API should not be: ``CharField`` turns ``123``
into ``"123"``, ``IntegerField`` takes ``"5"`` and ``5.0``, ``FloatField`` takes
``"1e3"``. Task arguments are plain JSON, so each field here accepts exactly its JSON
type. They subclass DRF's fields, so drf-spectacular documents them (and their limits)
like the originals.
"""

from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

# Beyond this a number cannot round-trip through JSON and back in every client.
NUMBER_LIMIT = 1e300


class StrictCharField(serializers.CharField):
    """A JSON string, kept as sent (no trimming), storable in any database."""

    default_error_messages = {
        "invalid": "Not a valid string.",
        "surrogates": "The text holds unpaired surrogate characters; send valid Unicode.",
        "max_bytes": "Ensure this field has no more than {max_bytes} bytes as UTF-8.",
    }

    def __init__(self, *, max_bytes: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.max_bytes = max_bytes

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError:
            self.fail("surrogates")
        if self.max_bytes is not None and size > self.max_bytes:
            self.fail("max_bytes", max_bytes=self.max_bytes)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a string, a boolean or a float."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictNumberField(serializers.FloatField):
    """A finite JSON number; integers stay integers (``1 + 2`` is ``3``, not ``3.0``)."""

    default_error_messages = {"invalid": "A number is required."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -NUMBER_LIMIT)
        kwargs.setdefault("max_value", NUMBER_LIMIT)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int | float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        # The range validators run next, on the value as sent (Python compares a huge
        # int with a float exactly, without converting it).
        return data
