"""The rules of the session resource, defined once: key names, values, sizes, limits.

The services enforce them, the selectors report them, the serializers and the OpenAPI
schema describe them, and the console is given them by the server: all read this
module, so every one of them measures the same way (UTF-8 bytes of compact JSON).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sessions_api.conf import app_settings
from sessions_api.errors import InvalidKey, ReservedKey

# The whole name must match; re.fullmatch (unlike "$") does not accept a trailing "\n".
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
KEY_MIN_LENGTH = 1
KEY_MAX_LENGTH = 128
# The key-name rule as JSON Schema: the OpenAPI document and the console both use it.
KEY_NAME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": KEY_MIN_LENGTH,
    "maxLength": KEY_MAX_LENGTH,
    "pattern": f"^{KEY_PATTERN.pattern}$",
}
MAX_VALUE_DEPTH = 32
RESERVED_PREFIX = "_"
# Where an anonymous caller's owner token lives (see services.session_owner_token_ensure).
OWNER_KEY = "_sa_owner"
# Room kept free in a signed cookie for what the server itself may add later (a login
# adds about 150 bytes, a custom expiry about 40), so that a key write that fits can
# never make a later login or set_expiry() overflow the browser's cookie limit.
SIGNED_COOKIE_HEADROOM_BYTES = 256


def limits() -> dict[str, int]:
    """The configured limits, by the names the session object and the console use."""
    return {
        "max_value_bytes": app_settings.SESSION_API_MAX_VALUE_BYTES,
        "max_session_bytes": app_settings.SESSION_API_MAX_SESSION_BYTES,
        "max_keys": app_settings.SESSION_API_MAX_KEYS,
        "max_expiry_seconds": app_settings.SESSION_API_MAX_EXPIRY_SECONDS,
        "max_value_depth": MAX_VALUE_DEPTH,
    }


def is_client_key(key: str) -> bool:
    """Keys starting with "_" belong to Django and to us, never to the client."""
    return not key.startswith(RESERVED_PREFIX)


def client_items(data: Mapping[str, Any]) -> dict[str, Any]:
    """The client's keys and values, sorted by key in code-point order."""
    # SessionBase is a mapping without __iter__: go through keys() explicitly.
    return {key: data[key] for key in sorted(data.keys()) if is_client_key(key)}


def compact_json(value: Any) -> bytes:
    """UTF-8 bytes of ``value`` as compact JSON (the unit of every size limit)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_size(value: Any) -> int:
    return len(compact_json(value))


def object_size_after(
    *, size: int, keys: int, key: str, old_bytes: int | None, new_bytes: int
) -> int:
    """``json_size()`` of a JSON object of ``size`` bytes and ``keys`` keys once ``key``
    is set to a value of ``new_bytes`` (replacing one of ``old_bytes``, or added if None).

    Compact JSON is ``{`` + the members ``"key":value`` joined by ``,`` + ``}``, so a
    member's bytes and its comma are all that change: no other value is measured again.
    """
    member = json_size(key) + 1  # "key":
    if old_bytes is not None:
        return size - old_bytes + new_bytes
    return size + member + new_bytes + (1 if keys else 0)


def key_name_problem(key: str) -> str | None:
    """Why ``key`` is not an acceptable client key name, or None if it is."""
    if not key:
        return f"Key names must be {KEY_MIN_LENGTH} to {KEY_MAX_LENGTH} characters long."
    if len(key) > KEY_MAX_LENGTH:
        return f"Key names must be at most {KEY_MAX_LENGTH} characters long."
    if KEY_PATTERN.fullmatch(key) is None:
        return (
            "Key names start with a letter or digit and contain only ASCII letters, "
            "digits and the characters _ . : -"
        )
    return None


def key_validate(*, key: str) -> None:
    """Raise ``reserved_key`` or ``invalid_key`` unless ``key`` is a client key name."""
    if key.startswith(RESERVED_PREFIX):
        raise ReservedKey(f"The key {key!r} starts with '_', which is reserved for the server.")
    problem = key_name_problem(key)
    if problem:
        raise InvalidKey(f"The key name {key!r} is not allowed. {problem}")


def value_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored as a session value, or None if it can.

    Walks the value without recursion: depth above ``MAX_VALUE_DEPTH``, a non-finite
    number (JSON has none, and the strict renderer could not write it back) or a string
    with an unpaired surrogate (not encodable as UTF-8) are refused.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_VALUE_DEPTH:
            return f"Values may be nested at most {MAX_VALUE_DEPTH} levels deep."
        if isinstance(item, float) and not math.isfinite(item):
            return "Numbers must be finite."
        children: Iterable[Any] = ()
        if isinstance(item, dict):
            children = item.values()
            for name in item:
                if not _encodable(name):
                    return "Strings must be valid Unicode (no unpaired surrogates)."
        elif isinstance(item, list):
            children = item
        elif isinstance(item, str) and not _encodable(item):
            return "Strings must be valid Unicode (no unpaired surrogates)."
        stack.extend((child, depth + 1) for child in children)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
