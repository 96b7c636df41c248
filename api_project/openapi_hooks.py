"""drf-spectacular postprocessing: what serializers cannot say about themselves."""

from __future__ import annotations

from typing import Any

# Request bodies that must hold exactly one of several fields.
EXACTLY_ONE_OF = {
    "ExpiryUpdateRequest": ["seconds", "expires_at", "at_browser_close"],
}


def exactly_one_of(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Add ``oneOf`` alternatives so clients and fuzzers know only one field may be sent."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, fields in EXACTLY_ONE_OF.items():
        if name in schemas:
            schemas[name]["oneOf"] = [{"required": [field]} for field in fields]
    return result
