"""A request's work must not grow with the session beyond what Django's own store does.

Counted, not timed: every call of ``json``, ``pickle`` and ``zlib`` that handles the
whole session (at least half its size) during one request. A read of a key on a large
session does what Django's store does for the same read (one decode, no encode), and
an uncontended write of a key what Django's store does to save it, plus at most the
one measurement of the session that its size limit takes (none on the cache engine,
which keeps the size with the data). A write sends the session once.
"""

from __future__ import annotations

import json
import pickle
import random
import string
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

import pytest
import redis.client
from django.conf import settings
from django.db import connection

from sessions_api.policy import client_items, json_size, object_size_after
from tests.support.clients import Client
from tests.support.engines import SERVER_SIDE

# A session this large cannot be a signed cookie (4 KB): the server-side engines only.
pytestmark = pytest.mark.engines(*SERVER_SIDE)

# About 48 KB of session: a few small keys and twelve 4 KB values of random letters,
# which compress no better than text (bench/probe.py's large seed has the same shape).
SMALL = {"profile": {"name": "Ana", "beta": True}, "theme": "dark", "counter": 0}
LARGE = {
    **SMALL,
    **{
        f"blob{index:02d}": "".join(random.Random(index).choices(string.ascii_letters, k=4096))
        for index in range(12)
    },
}
WHOLE = len(json.dumps(LARGE)) // 2  # a call handling this much touches every value


ENCODES = ("json.dumps", "pickle.dumps", "zlib.compress")


@contextmanager
def serialisations() -> Iterator[Counter[str]]:
    """The calls that (de)serialise or (de)compress the whole session, by function."""
    seen: Counter[str] = Counter()
    with pytest.MonkeyPatch.context() as patch:

        def counted(module: Any, name: str, size: Callable[[Any, Any], int]) -> None:
            original = getattr(module, name)

            def call(*args: Any, **kwargs: Any) -> Any:
                result = original(*args, **kwargs)
                if size(args[0], result) >= WHOLE:
                    seen[f"{module.__name__}.{name}"] += 1
                return result

            patch.setattr(module, name, call)

        for module in (json, pickle):
            counted(module, "dumps", lambda _, out: len(out))
            counted(module, "loads", lambda data, _: len(data))
        counted(zlib, "compress", lambda data, _: len(data))
        counted(zlib, "decompress", lambda _, out: len(out))
        yield seen


def django_request(engine: str, *, write: bool) -> Counter[str]:
    """What Django's own store of the engine does in a request on the large session that
    reads a key, or (``write``) changes one: its load, and its save."""
    store = import_module(f"django.contrib.sessions.backends.{engine}").SessionStore
    seeded = store()
    seeded.update(LARGE)
    seeded.save()
    request = store(session_key=seeded.session_key)
    with serialisations() as seen:
        assert request["profile"] == LARGE["profile"]
        if write:
            request["counter"] = 1
            request.save()
    return seen


@pytest.fixture
def large(engine: str) -> Client:
    """A client whose session (on a server-side engine) holds ``LARGE``."""
    assert engine != "signed_cookies", "select engines(*SERVER_SIDE) for this test"
    client = Client()
    client.csrf()
    for key, value in LARGE.items():
        response = client.send("PUT", f"/api/v1/session/keys/{key}/", {"value": value})
        assert response.status_code == 201, response.content
    return client


def test_a_read_of_a_key_costs_what_djangos_own_load_does(large, engine):
    large.get("/api/v1/session/keys/theme/")  # warm
    with serialisations() as api:
        response = large.get("/api/v1/session/keys/profile/")
    assert response.json() == {"key": "profile", "value": LARGE["profile"]}
    django = django_request(engine, write=False)
    assert django and not any(name in ENCODES for name in django)  # a decode, no encode
    assert api == django


def test_a_write_of_a_key_costs_djangos_save_and_one_measurement(large, engine):
    large.send("PUT", "/api/v1/session/keys/theme/", {"value": "light"})  # warm
    with serialisations() as api:
        response = large.send("PUT", "/api/v1/session/keys/counter/", {"value": 1})
    assert response.status_code == 200, response.content
    django = django_request(engine, write=True)
    # At most what Django's store does (its load and save), and the one measurement of
    # the session that the size limit takes.
    allowed = django + Counter({"json.dumps": 1})
    assert not api - allowed, (api, django)


def test_a_write_sends_the_session_once(large, engine):
    """The compare-and-set ships the new data and a short token (the cache's version,
    the row's signature after a read from the cached_db cache), never the old session
    beside the new; and the cached_db cache entry holds the data once, as Django's."""
    sent: list[int] = []  # bytes of each Redis command's arguments
    parameters: list[int] = []  # bytes of each SQL statement's parameters
    original = redis.client.Redis.execute_command

    def command(self: Any, *args: Any, **options: Any) -> Any:
        sent.append(sum(len(a) for a in args if isinstance(a, bytes | str)))
        return original(self, *args, **options)

    def statement(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        parameters.append(sum(len(p) for p in params or () if isinstance(p, bytes | str)))
        return execute(sql, params, many, context)

    with pytest.MonkeyPatch.context() as patch, connection.execute_wrapper(statement):
        patch.setattr(redis.client.Redis, "execute_command", command)
        response = large.send("PUT", "/api/v1/session/keys/counter/", {"value": 2})
    assert response.status_code == 200, response.content
    session = 2 * WHOLE  # about one copy of the session, encoded
    assert sum(sent) < 1.5 * session, sent  # cache: the script; cached_db: the entry
    if engine == "cached_db":  # compares the signature the cache keeps (db: the text)
        assert sum(parameters) < 1.5 * session, parameters


def test_the_size_after_one_change_is_the_size_measured_whole():
    """``object_size_after()`` (one member measured) against ``json_size()`` (all)."""
    rng = random.Random(20261201)
    alphabet = string.ascii_letters + 'é€😀"\\\n\x01 '
    values: list[Any] = [0, -1.5, True, None, "", [], {}, {"a": [1, {"b": "ç"}]}]
    for _ in range(500):
        data = {
            "".join(rng.choices(alphabet, k=rng.randint(1, 8))): rng.choice(values)
            for _ in range(rng.randint(0, 6))
        }
        key = rng.choice([*data, "new", "ünï"])
        value = rng.choice([*values, "".join(rng.choices(alphabet, k=rng.randint(0, 50)))])
        after = {**data, key: value}
        assert object_size_after(
            size=json_size(data),
            keys=len(data),
            key=key,
            old_bytes=json_size(data[key]) if key in data else None,
            new_bytes=json_size(value),
        ) == json_size(after), (data, key, value)


@pytest.mark.engines("cache")  # the only engine that keeps the size with the data
def test_a_write_on_the_cache_engine_measures_only_the_key_it_changes(large, engine):
    """The version carries the size the last write noted: the next write measures the
    changed key alone, and the size it leaves is still the session's measured whole."""
    with serialisations() as api:
        response = large.send("PUT", "/api/v1/session/keys/counter/", {"value": 3})
    assert response.status_code == 200, response.content
    assert "json.dumps" not in api, api
    for key, value in [("blob03", "é" * 3000), ("new", [1, "x"]), ("theme", "light")]:
        assert large.send("PUT", f"/api/v1/session/keys/{key}/", {"value": value}).status_code in (
            200,
            201,
        )
    assert large.send("DELETE", "/api/v1/session/keys/blob04/").status_code == 204
    assert large.send("PUT", "/api/v1/session/keys/after/", {"value": 1}).status_code == 201
    store = import_module(settings.SESSION_ENGINE).SessionStore
    session = store(session_key=large.session_cookie())
    assert session.known_size() == json_size(client_items(session))
    session["theme"] = "dark"  # any change the API did not measure: the size is forgotten
    assert session.known_size() is None
