"""schemathesis hooks for the hostile run of ``tests/test_fuzz.py`` (``SCHEMATHESIS_HOOKS``).

Schema-driven generation stays inside what the schema says: an ``integer`` query
parameter gets integers and, in negative mode, the odd ASCII string, which is why it
never sent ``page_size=²``. Here each generated case has one of its inputs replaced
by a value from ``tests/hostile.py``: a declared query parameter, path parameter or
header (present or not), a header the API reads though no operation declares it, or a
field of a JSON body. The run's checks are "no server error" and ``problem_documents``
below: a hostile case is no longer one the schema describes, so what it answers is
judged by the contract's floor, not by the schema.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import schemathesis
from hypothesis import strategies as st

from tests.hostile import (
    as_header_value,
    hostile_digits,
    hostile_json,
    hostile_text,
    nfkc_twins,
)

# Headers the API reads beyond those an operation declares (see tests/test_hostile_input.py).
READ_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "Origin",
    "Referer",
    "User-Agent",
    "X-Forwarded-For",
    "X-Request-ID",
    "X-CSRFToken",
)
PROBLEM_CONTENT_TYPE = "application/problem+json"
# An account tests/test_fuzz.py creates before the run: its lookalikes are tried as the
# username of every body that has one (NFKC folds most of them onto it).
KNOWN_USERNAME = "fuzzer"
# With a hostile username, the password is one Django's validators accept, so that the
# username gets as far as the database.
STRONG_PASSWORD = "correct horse battery staple 9"
# gunicorn answers a request line over 4094 bytes or a header field over 8190 itself
# (414/431, its own HTML), before the application sees the request: values are cut
# to fit, here only (the in-process fuzzer sends the longer ones to the application).
URL_VALUE_LIMIT = 3000
HEADER_VALUE_LIMIT = 8000


# (location, name, seed, kind): one input of a case a hostile value may replace; kind
# is "number" for an input that takes an integer or a number.
Target = tuple[str, str, str, str]


def _targets(case: Any) -> tuple[list[Target], list[Target]]:
    """The inputs the operation declares (query, path, header parameters, body fields),
    and the headers the API reads whatever the operation declares."""
    operation = case.operation
    declared: list[Target] = []
    for location, container in (
        ("query", operation.query),
        ("path_parameters", operation.path_parameters),
        ("headers", operation.headers),
    ):
        for parameter in container:
            current = (getattr(case, location) or {}).get(parameter.name)
            kind = (parameter.definition.get("schema") or {}).get("type")
            declared.append(
                (
                    location,
                    parameter.name,
                    "1" if current is None else str(current),
                    "number" if kind in ("integer", "number") else "text",
                )
            )
    if isinstance(case.body, dict):
        for key, value in case.body.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            seed = value if isinstance(value, str) else json.dumps(value)
            declared.append(("body", key, seed, "number" if number else "text"))
    read = [("headers", name, str(case.headers.get(name) or ""), "text") for name in READ_HEADERS]
    return declared, read


def _fit(value: str, size: Any, limit: int) -> str:
    while value and size(value) > limit:
        value = value[: len(value) // 2]
    return value


def _without_surrogates(value: Any) -> Any:
    """``value`` with each lone surrogate as U+FFFD: schemathesis validates what it
    sends, and its validator takes only valid Unicode (the in-process fuzzer sends lone
    surrogates, as ``\\ud800`` escapes in raw JSON bodies)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def _replace(case: Any, target: Target, value: Any) -> Any:
    location, name, _, _ = target
    value = _without_surrogates(value)
    if location == "headers":
        # As a client can send it: Latin-1 text without CR, LF or NUL, and not starting
        # with whitespace (which requests refuses to send).
        text = re.sub(r"^\s+", "", as_header_value(str(value)))
        case.headers[name] = _fit(text, len, HEADER_VALUE_LIMIT) or "x"
    elif location == "body":
        case.body = {**case.body, name: value}
        if name == "username" and "password" in case.body:
            case.body["password"] = STRONG_PASSWORD
    else:

        def encoded_size(text: str) -> int:
            return len(quote(text.encode("utf-8", "surrogatepass")))

        container = dict(getattr(case, location) or {})
        container[name] = _fit(str(value), encoded_size, URL_VALUE_LIMIT)
        setattr(case, location, container)
    return case


def _hostile_values(target: Target) -> st.SearchStrategy[Any]:
    location, name, seed, kind = target
    seeds = (seed or "x",)
    values = hostile_text(seeds=seeds)
    if kind == "number":
        values = st.one_of(hostile_digits(seeds=seeds), values)
    if name == "username":
        values = st.one_of(
            st.sampled_from(nfkc_twins(KNOWN_USERNAME)),
            hostile_text(seeds=(KNOWN_USERNAME, *seeds)),
        )
    if location == "body":
        values = st.one_of(values, hostile_json(seeds=seeds))
    return values


@schemathesis.hook
def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
    declared, read = _targets(case)
    # Half the cases change an input of the operation's own, half any input at all.
    targets = st.one_of(st.sampled_from(declared), st.sampled_from(declared + read))
    if not declared:
        targets = st.sampled_from(read)
    return targets.flatmap(
        lambda target: _hostile_values(target).map(lambda value: _replace(case, target, value))
    )


@schemathesis.check
def problem_documents(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx under /api/ is a problem document with its status and a code."""
    if response.status_code < 400 or not case.path.startswith("/api/"):
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.split(";")[0].strip() == PROBLEM_CONTENT_TYPE, (
        f"{response.status_code} with Content-Type {content_type!r}, not a problem document"
    )
    body = json.loads(response.content)
    assert body.get("status") == response.status_code, f"status {body.get('status')!r}"
    assert isinstance(body.get("code"), str) and body["code"], f"code {body.get('code')!r}"
    return None
