"""A request's work must not grow with the session beyond what Django's own store does.

Counted, not timed: every call of ``json``, ``pickle`` and ``zlib`` that handles the
whole session (at least half its size) during one request. A read of a key on a large
session does what Django's store does for the same read (one decode, no encode), and
an uncontended write of a key what Django's store does to save it, plus at most the
one measurement of the session that its size limit takes.
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
from django.db import connection

from tests.conftest import Client

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
    if engine == "signed_cookies":
        pytest.skip("A session this large cannot be a signed cookie (4 KB).")
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
    the row's signature), never the old session beside the new; and the cached_db
    cache entry holds the data once, as Django's does."""
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
    assert sum(parameters) < 1.5 * session, parameters  # db, cached_db: the UPDATE
