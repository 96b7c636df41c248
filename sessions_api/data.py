"""Pure helpers over session data: which keys are the client's, and how big things are.

Used by the service (to enforce limits) and by the selectors (to report usage), so the
two always measure the same way: UTF-8 bytes of compact JSON, as API.md defines.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# The whole name must match; re.fullmatch (unlike "$") does not accept a trailing "\n".
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
KEY_MAX_LENGTH = 128
MAX_VALUE_DEPTH = 32
RESERVED_PREFIX = "_"
# Where an anonymous caller's owner token lives (see services.session_owner_token_ensure).
OWNER_KEY = "_sa_owner"


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


def key_name_problem(key: str) -> str | None:
    """Why ``key`` is not an acceptable client key name, or None if it is."""
    if not key:
        return "Key names must be 1 to 128 characters long."
    if len(key) > KEY_MAX_LENGTH:
        return f"Key names must be at most {KEY_MAX_LENGTH} characters long."
    if KEY_PATTERN.fullmatch(key) is None:
        return (
            "Key names start with a letter or digit and contain only ASCII letters, "
            "digits and the characters _ . : -"
        )
    return None


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
