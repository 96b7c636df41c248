"""Fuzzing in process: hostile strings in every input the API reads, and never a 500.

Every query parameter, path parameter and request header the code reads, and every
field of the JSON bodies of register, login, password change, keys, expiry and
tasks, gets strings and values from ``tests/hostile.py`` (Unicode digits, NFKC
lookalikes of a real username, invisible and direction marks, controls, numbers as
strings, very long strings), one input at a time with the others valid, so each
hostile value gets as far as it can. Each answer must be below 500, and under
``/api/`` every error a problem document with its status and a code.

The inputs, as the code reads them (keep this list in step with it):

* query: ``page``, ``page_size``, ``status``, ``name`` (``GET /api/v1/tasks/``);
  ``format`` (DRF's format override, on every API view); ``format``, ``lang``
  (``/api/schema/``); ``next`` (``/admin/login/``);
* path: a key name, a task id, a login's public id;
* headers: ``Cookie`` (the session cookie, on every engine, and the CSRF cookie),
  ``X-CSRFToken``, ``Origin``, ``Referer`` (CSRF over HTTPS), ``Accept``,
  ``Content-Type``, ``Content-Length``, ``Host``, ``X-Forwarded-For`` (with a
  trusted proxy), ``X-Forwarded-Proto`` (with ``SECURE_PROXY_SSL_HEADER``),
  ``User-Agent``, ``X-Request-ID``, ``Idempotency-Key``, ``Accept-Language``, and the
  CORS preflight's ``Access-Control-Request-Method``/``-Headers``;
* bodies: each field of each JSON body above, whole hostile JSON values, and raw
  texts no JSON value stands for (lone surrogate escapes, invalid UTF-8, NaN, ...).

No endpoint reads ``Last-Event-ID`` yet; the events stream that will must be added here.

``FUZZ_HOSTILE_EXAMPLES`` examples per input (12; ``make fuzz`` runs 200). The default
run is derandomized, the same examples every time, so it cannot pass today and fail
tomorrow on luck; with the variable set each run draws new ones. Each example starts from a
new browser, and where a throttle counts from an empty cache, so no throttle hides an
input from the next example.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks_api.models import TaskRecord
from tasks_api.registry import task_types
from tests.factories import PASSWORD, make_user
from tests.hostile import (
    as_header_value,
    hostile_json,
    hostile_json_texts,
    hostile_text,
    lookalikes_of,
    nfkc_twins,
)
from tests.support.clients import Client, clear_run_cache

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_HOSTILE_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="FUZZ_HOSTILE_EXAMPLES" not in os.environ,
    suppress_health_check=list(HealthCheck),
)
USERNAME = "fuzzer"  # exists in every test: its lookalikes must be refused, never a 500
KEY = "/api/v1/session/keys/theme/"
TASKS = "/api/v1/tasks/"
LOGIN = "/api/v1/auth/login/"
HTTPS_ORIGIN = {"secure": True, "HTTP_ORIGIN": "https://testserver"}


def encoded(text: str) -> str:
    """``text`` percent-encoded as UTF-8 (a lone surrogate as the bytes it would be)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def handled(response: Any, *, api: bool = True) -> None:
    """Below 500; under /api/, an error is a problem document naming its status."""
    assert response.status_code < 500, (response.status_code, response.content[:3000])
    if api and response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json", response.content[:3000]
        body = response.json()
        assert body["status"] == response.status_code, body
        assert isinstance(body["code"], str) and body["code"], body


# A well-formed CSRF token, set as a browser would hold it (Django accepts any such
# cookie as its secret): one request fewer per example than fetching one.
CSRF_TOKEN = "fuzzFUZZ" * 4


# Where a throttle counts, beside POST /api/v1/tasks/: each example of these starts from
# an empty cache, so that no throttle hides an input from the next example.
THROTTLED = ("/api/v1/auth/login/", "/api/v1/auth/register/", "/api/v1/auth/password/")


def browser(*, user: Any = None, throttled: bool = False) -> Client:
    """A new browser with a CSRF token (logged in as ``user``); ``throttled``: and an
    empty cache."""
    if throttled:
        clear_run_cache()
        # Unfinished tasks count against their owner too: none are left from before.
        TaskRecord.objects.all().delete()
    # Answers, not exceptions: a server error is a 500 response, reported as one.
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF_TOKEN
    client.credentials(HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    return client


@pytest.fixture
def known_user(db: None) -> Any:
    return make_user(username=USERNAME)


@pytest.fixture
def staff_user(db: None) -> Any:
    return make_user(username="fuzz-staff", is_staff=True)


def fuzz(strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    """Run ``check`` on ``FUZZ_HOSTILE_EXAMPLES`` examples of ``strategy``."""

    @FUZZ
    @given(strategy)
    def run(value: Any) -> None:
        check(value)

    run()


# --- Query and path parameters ---------------------------------------------------------

QUERY_TARGETS = [
    (TASKS, "page", ("1", "2", "20")),
    (TASKS, "page_size", ("1", "20", "100")),
    (TASKS, "status", ("PENDING", "SUCCESS", "REVOKED")),
    (TASKS, "name", ("demo.add", "text.stats")),
    (TASKS, "format", ("json",)),
    ("/api/v1/session/", "format", ("json",)),
    ("/api/v1/session/keys/", "format", ("json",)),
    ("/api/v1/tasks/types/", "format", ("json",)),
    ("/api/schema/", "format", ("json", "yaml", "openapi")),
    ("/api/schema/", "lang", ("en", "de")),
    ("/admin/login/", "next", ("/admin/", "/")),
]


@pytest.mark.parametrize(
    ("path", "param", "seeds"), QUERY_TARGETS, ids=[f"{p}?{q}" for p, q, _ in QUERY_TARGETS]
)
def test_hostile_query_parameters(path: str, param: str, seeds: tuple[str, ...]) -> None:
    def check(value: str) -> None:
        response = browser().get(f"{path}?{param}={encoded(value)}")
        handled(response, api=path.startswith("/api/"))

    fuzz(hostile_text(seeds=seeds), check)


@pytest.mark.parametrize(("param", "largest"), [("page", None), ("page_size", 100)])
def test_a_page_number_is_an_ascii_whole_number_or_400(param: str, largest: int | None) -> None:
    """Not only no 500: ``page=²`` once reached DRF's paginator and answered 404, where
    every other value that is not a number is 400."""

    def check(value: str) -> None:
        response = browser().get(f"{TASKS}?{param}={encoded(value)}")
        handled(response)
        number = value.isascii() and value.isdigit()
        if not number:
            assert response.status_code == 400, (value, response.status_code)
        elif largest is not None:
            assert response.status_code == (200 if 1 <= int(value) <= largest else 400)
        else:  # page 1 of an empty list exists; any other page of it is 404
            assert response.status_code == (200 if int(value) == 1 else 404), value

    fuzz(hostile_text(seeds=("1", "2", "20", "100")), check)


def test_hostile_task_list_queries_all_at_once() -> None:
    names = ("page", "page_size", "status", "name")
    values = st.tuples(*(hostile_text(seeds=("1", "PENDING", "demo.add")) for _ in names))

    def check(query: tuple[str, ...]) -> None:
        text = "&".join(f"{name}={encoded(v)}" for name, v in zip(names, query, strict=True))
        handled(browser().get(f"{TASKS}?{text}"))

    fuzz(values, check)


PATH_TARGETS = [
    ("GET", "/api/v1/session/keys/{}/", ("theme",)),
    ("PUT", "/api/v1/session/keys/{}/", ("theme",)),
    ("DELETE", "/api/v1/session/keys/{}/", ("theme",)),
    ("GET", "/api/v1/tasks/{}/", (str(uuid.uuid4()),)),
    ("POST", "/api/v1/tasks/{}/cancel/", (str(uuid.uuid4()),)),
    ("DELETE", "/api/v1/auth/sessions/{}/", ("0123456789ab",)),
]


@pytest.mark.parametrize(
    ("method", "template", "seeds"), PATH_TARGETS, ids=[f"{m} {t}" for m, t, _ in PATH_TARGETS]
)
def test_hostile_path_parameters(
    method: str, template: str, seeds: tuple[str, ...], known_user: Any
) -> None:
    def check(value: str) -> None:
        client = browser(user=known_user if "/auth/" in template else None)
        body = {"value": 1} if method == "PUT" else None
        handled(client.send(method, template.format(encoded(value)), body))

    fuzz(hostile_text(seeds=seeds), check)


# --- Headers ---------------------------------------------------------------------------


def _put_key(client: Client, **extra: Any) -> Any:
    return client.send("PUT", KEY, {"value": 1}, **extra)


def _get_session(client: Client, **extra: Any) -> Any:
    return client.get("/api/v1/session/", **extra)


def _login(client: Client, **extra: Any) -> Any:
    return client.send("POST", LOGIN, {"username": USERNAME, "password": PASSWORD}, **extra)


def _enqueue(client: Client, **extra: Any) -> Any:
    return client.send("POST", TASKS, {"name": "demo.add", "args": {"a": 1, "b": 2}}, **extra)


def _register(client: Client, **extra: Any) -> Any:
    body = {"username": f"u{uuid.uuid4().hex[:12]}", "password": PASSWORD}
    return client.send("POST", "/api/v1/auth/register/", body, **extra)


def _preflight(client: Client, **extra: Any) -> Any:
    headers = {
        "HTTP_ORIGIN": "https://app.example.com",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type,x-csrftoken",
        **extra,
    }
    return client.options(KEY, **headers)


def _schema(client: Client, **extra: Any) -> Any:
    return client.get("/api/schema/?format=json", **extra)


# (header, WSGI name, request, values it expects, settings the reading needs)
HEADER_TARGETS: list[tuple[str, str, Callable[..., Any], tuple[str, ...], dict[str, Any]]] = [
    ("X-CSRFToken", "HTTP_X_CSRFTOKEN", _put_key, ("x" * 32, "x" * 64), {}),
    ("Origin", "HTTP_ORIGIN", _put_key, ("http://testserver", "null"), {}),
    (
        "Referer",
        "HTTP_REFERER",
        lambda c, **e: _put_key(c, secure=True, **e),
        ("https://testserver/", "https://testserver/api/"),
        {},
    ),
    ("Accept (GET)", "HTTP_ACCEPT", _get_session, ("application/json", "*/*;q=0.8"), {}),
    ("Accept (PUT)", "HTTP_ACCEPT", _put_key, ("application/json", "text/html"), {}),
    (
        "Content-Type",
        "CONTENT_TYPE",
        _put_key,
        ("application/json", "application/json; charset=utf-8"),
        {},
    ),
    ("Content-Length", "CONTENT_LENGTH", _put_key, ("12", "0", "3000000"), {}),
    ("Host", "HTTP_HOST", _get_session, ("testserver", "localhost:8000", "[::1]"), {}),
    (
        "X-Forwarded-For (login)",
        "HTTP_X_FORWARDED_FOR",
        _login,
        ("203.0.113.7", "203.0.113.7, 10.0.0.1", "2001:db8::1"),
        {"TRUSTED_PROXY_COUNT": 1},
    ),
    (
        "X-Forwarded-For (register)",
        "HTTP_X_FORWARDED_FOR",
        _register,
        ("203.0.113.7", "10.0.0.1, 203.0.113.7"),
        {"TRUSTED_PROXY_COUNT": 2},
    ),
    (
        "X-Forwarded-Proto",
        "HTTP_X_FORWARDED_PROTO",
        _put_key,
        ("https", "http"),
        {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")},
    ),
    ("User-Agent", "HTTP_USER_AGENT", _login, ("Mozilla/5.0", "curl/8.5.0"), {}),
    ("X-Request-ID", "HTTP_X_REQUEST_ID", _get_session, ("abc123", "0" * 32), {}),
    ("Idempotency-Key", "HTTP_IDEMPOTENCY_KEY", _enqueue, ("order-42",), {}),
    ("Accept-Language", "HTTP_ACCEPT_LANGUAGE", _schema, ("en", "de-DE,de;q=0.9"), {}),
    (
        "Access-Control-Request-Method",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD",
        _preflight,
        ("PUT", "DELETE"),
        {"CORS_ALLOWED_ORIGINS": ["https://app.example.com"]},
    ),
    (
        "Access-Control-Request-Headers",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS",
        _preflight,
        ("content-type", "x-csrftoken, idempotency-key"),
        {"CORS_ALLOWED_ORIGINS": ["https://app.example.com"]},
    ),
]


@pytest.mark.parametrize(
    ("header", "meta", "send", "seeds", "overrides"),
    HEADER_TARGETS,
    ids=[target[0] for target in HEADER_TARGETS],
)
def test_hostile_headers(
    header: str,
    meta: str,
    send: Callable[..., Any],
    seeds: tuple[str, ...],
    overrides: dict[str, Any],
    known_user: Any,
) -> None:
    throttled = send in (_login, _enqueue, _register)

    def check(value: str) -> None:
        handled(send(browser(throttled=throttled), **{meta: as_header_value(value)}))

    with override_settings(**overrides):
        fuzz(hostile_text(seeds=seeds), check)


def test_hostile_session_cookie_on_every_engine(engine: str) -> None:
    """The session key is the input every engine parses first, each in its own way."""
    seed = browser()
    assert _put_key(seed).status_code == 201
    real = seed.session_cookie() or ""
    token = seed.cookies[django_settings.CSRF_COOKIE_NAME].value
    name = django_settings.SESSION_COOKIE_NAME

    def check(value: str) -> None:
        client = browser()
        cookie = f"{name}={as_header_value(value)}; {django_settings.CSRF_COOKIE_NAME}={token}"
        extra = {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": token}
        handled(_get_session(client, **extra))
        handled(_put_key(client, **extra))

    fuzz(hostile_text(seeds=(real, real[:20], "x" * 32)), check)


def test_hostile_csrf_cookie() -> None:
    def check(value: str) -> None:
        client = browser()
        raw = as_header_value(value)
        extra = {"HTTP_COOKIE": f"{django_settings.CSRF_COOKIE_NAME}={raw}"}
        handled(_put_key(client, HTTP_X_CSRFTOKEN=raw, **extra))

    fuzz(hostile_text(seeds=("x" * 32, "a" * 64)), check)


# --- JSON bodies -----------------------------------------------------------------------


def field(*seeds: str) -> st.SearchStrategy[Any]:
    """One body field: a value it accepts, or a hostile string or JSON value."""
    return st.one_of(
        st.sampled_from(seeds) if seeds else st.nothing(),
        hostile_text(seeds=seeds or ("x",)),
        hostile_json(seeds=seeds or ("x",)),
    )


def username() -> st.SearchStrategy[Any]:
    """Other spellings of an existing username that NFKC folds onto it, its lookalikes,
    then anything."""
    return st.one_of(
        st.sampled_from(nfkc_twins(USERNAME)),
        st.sampled_from(lookalikes_of(USERNAME)),
        field(USERNAME, "newcomer"),
    )


def body_of(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    return st.one_of(
        st.fixed_dictionaries(required, optional=optional or {}),
        hostile_json(),  # not an object at all, or the wrong one
    )


def expiry_body() -> st.SearchStrategy[Any]:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return st.one_of(
        body_of({"seconds": st.one_of(st.integers(), field("300"))}),
        body_of({"expires_at": field(soon, soon.replace("+00:00", "Z"))}),
        body_of({"at_browser_close": field("true")}),
        body_of({}, {"seconds": field("60"), "expires_at": field(soon), "x": field()}),
    )


def task_body() -> st.SearchStrategy[Any]:
    types = task_types()

    def of(task_type: Any) -> st.SearchStrategy[Any]:
        fields = list(task_type.args().fields)
        return st.fixed_dictionaries(
            {
                "name": st.one_of(st.just(task_type.name), field(task_type.name)),
                "args": st.one_of(
                    st.fixed_dictionaries({}, optional={name: field("1") for name in fields}),
                    hostile_json(),
                ),
            },
            optional={"countdown": st.one_of(st.integers(), field("0", "900"))},
        )

    return st.one_of(st.sampled_from(types).flatmap(of), hostile_json())


BODY_TARGETS: list[tuple[str, str, str, Callable[[], Any], str]] = [
    (
        "register",
        "POST",
        "/api/v1/auth/register/",
        lambda: body_of(
            {"username": username(), "password": field(PASSWORD)},
            {"email": field("ana@example.com", "")},
        ),
        "anonymous",
    ),
    (
        "login",
        "POST",
        LOGIN,
        lambda: body_of({"username": username(), "password": field(PASSWORD)}),
        "anonymous",
    ),
    (
        "password change",
        "POST",
        "/api/v1/auth/password/",
        lambda: body_of({"old_password": field(PASSWORD), "new_password": field(PASSWORD + "!")}),
        "user",
    ),
    (
        "key create",
        "POST",
        "/api/v1/session/keys/",
        lambda: body_of({"key": field("theme", "a.b:c-d_e"), "value": hostile_json()}),
        "anonymous",
    ),
    ("key put", "PUT", KEY, lambda: body_of({"value": hostile_json()}), "anonymous"),
    ("expiry (anonymous)", "PUT", "/api/v1/session/expiry/", expiry_body, "anonymous"),
    ("expiry (logged in)", "PUT", "/api/v1/session/expiry/", expiry_body, "user"),
    ("task (anonymous)", "POST", TASKS, task_body, "anonymous"),
    ("task (staff)", "POST", TASKS, task_body, "staff"),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "strategy", "who"),
    BODY_TARGETS,
    ids=[target[0] for target in BODY_TARGETS],
)
def test_hostile_json_bodies(
    name: str,
    method: str,
    path: str,
    strategy: Callable[[], Any],
    who: str,
    known_user: Any,
    staff_user: Any,
) -> None:
    user = {"anonymous": None, "user": known_user, "staff": staff_user}[who]

    def check(body: Any) -> None:
        client = browser(user=user, throttled=path.startswith(THROTTLED) or path == TASKS)
        handled(client.generic(method, path, _dumps(body), "application/json"))

    fuzz(strategy(), check)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", KEY),
        ("POST", "/api/v1/session/keys/"),
        ("PUT", "/api/v1/session/expiry/"),
        ("POST", "/api/v1/auth/register/"),
        ("POST", LOGIN),
        ("POST", TASKS),
    ],
)
def test_raw_bodies_no_json_value_stands_for(method: str, path: str) -> None:
    def check(raw: bytes) -> None:
        client = browser(throttled=path.startswith(THROTTLED) or path == TASKS)
        handled(client.generic(method, path, raw, "application/json"))

    fuzz(hostile_json_texts(), check)


def _dumps(body: Any) -> bytes:
    # As a client would send it: UTF-8, a lone surrogate as its \u escape.
    return json.dumps(body).encode("ascii")
