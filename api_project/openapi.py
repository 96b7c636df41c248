"""The schema's description (``openapi/description.md``) with the rules filled in.

The description names limits and bounds; ``$NAME`` placeholders there take their values
from the modules that define them (and the apps' defaults), so the prose cannot drift
from the code. A drf-spectacular postprocessing hook, listed in the settings.
"""

from __future__ import annotations

from string import Template
from typing import Any

from sessions_api.conf import DEFAULTS as SESSIONS_API_DEFAULTS
from sessions_api.policy import KEY_MAX_LENGTH, KEY_MIN_LENGTH, KEY_PATTERN, MAX_VALUE_DEPTH
from tasks_api.conf import DEFAULTS as TASKS_API_DEFAULTS
from tasks_api.policy import MAX_PAGE_BYTES

RULES: dict[str, Any] = {
    **SESSIONS_API_DEFAULTS,
    **TASKS_API_DEFAULTS,
    "MAX_PAGE_MIB": MAX_PAGE_BYTES // (1024 * 1024),
    "KEY_MIN_LENGTH": KEY_MIN_LENGTH,
    "KEY_MAX_LENGTH": KEY_MAX_LENGTH,
    "KEY_PATTERN": KEY_PATTERN.pattern,
    "MAX_VALUE_DEPTH": MAX_VALUE_DEPTH,
}


def fill_rules(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Substitute the ``$NAME`` placeholders of the description (all must be known)."""
    info = result.get("info", {})
    info["description"] = Template(info.get("description", "")).substitute(RULES)
    return result
