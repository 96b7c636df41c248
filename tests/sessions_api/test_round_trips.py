"""What one request sends to the database and Redis: the minimum each engine needs.

The merge that keeps concurrent writes (test_concurrency.py) must not cost the usual,
uncontended write anything: a save is one compare-and-set (an UPDATE of the row on the
condition that it still holds what the request read, or one Redis script), and the
locked read-merge-write runs only when another request wrote in between. Counted on
the real database and the real Redis, as the benchmark's probe counts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

import pytest
import redis.client
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.engines import SERVER_SIDE
from tests.support.sessions import client_data, two_requests_on_one_session

PUT = "/api/v1/session/keys/counter/"
GET = "/api/v1/session/keys/counter/"


@contextmanager
def redis_commands() -> Iterator[list[str]]:
    """The names of the Redis commands this process sends while active."""
    seen: list[str] = []
    original = redis.client.Redis.execute_command

    def counting(self, *args, **options):  # type: ignore[no-untyped-def]
        seen.append(str(args[0]).upper())
        return original(self, *args, **options)

    redis.client.Redis.execute_command = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        redis.client.Redis.execute_command = original  # type: ignore[method-assign]


def sql_verbs(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0].upper() for query in queries.captured_queries]


@contextmanager
def counted() -> Iterator[tuple[CaptureQueriesContext, list[str]]]:
    with CaptureQueriesContext(connection) as queries, redis_commands() as commands:
        yield queries, commands


# What an uncontended PUT of a key in an existing session may send, per engine: the
# read of the session, then one conditional write (Django's own store needs as much).
PUT_BUDGET = {
    "db": (["SELECT", "UPDATE"], []),
    "cache": ([], ["MGET", "EVAL"]),  # the data with its version, then the script
    "cached_db": (["UPDATE"], ["GET", "SET"]),  # read from the cache, cache refreshed
    "file": ([], []),
    "signed_cookies": ([], []),
}


def test_an_uncontended_put_is_a_read_and_one_conditional_write(client, engine):
    client.send("PUT", PUT, {"value": 0})
    client.send("PUT", PUT, {"value": 1})  # warm: connections, the cache entry
    with counted() as (queries, commands):
        response = client.send("PUT", PUT, {"value": 2})
    assert response.status_code == 200, response.content
    assert (sql_verbs(queries), commands) == PUT_BUDGET[engine]
    assert client.get(GET).json() == {"key": "counter", "value": 2}


def test_a_read_is_one_round_trip(client, engine):
    client.send("PUT", PUT, {"value": 7})
    client.get(GET)
    with counted() as (queries, commands):
        response = client.get(GET)
    assert response.json() == {"key": "counter", "value": 7}
    expected = {
        "db": (["SELECT"], []),
        "cache": ([], ["MGET"]),  # the data and its version (what a save compares on)
        "cached_db": ([], ["GET"]),
        "file": ([], []),
        "signed_cookies": ([], []),
    }[engine]
    assert (sql_verbs(queries), commands) == expected


@pytest.mark.engines(*SERVER_SIDE)
def test_a_write_after_someone_elses_takes_the_locked_merge(engine):
    """The compare-and-set sees the other write, and the save falls back to the merge."""
    store, key, mine, theirs = two_requests_on_one_session(engine)
    theirs["theirs"] = 1
    theirs.save()
    mine["mine"] = 2
    with counted() as (queries, commands):
        mine.save()
    if engine == "cache":
        # The script refused, then the lock (SET NX), the read, the write, the release.
        assert commands[0] == "EVAL" and "SET" in commands[1:], commands
    elif engine != "file":  # the file store always locks; the merge below is its proof
        verbs = sql_verbs(queries)
        # The conditional UPDATE matched nothing, then the locked read of the row.
        assert verbs[0] == "UPDATE" and "SELECT" in verbs[1:], verbs
    assert client_data(store, key) == {"seed": 0, "theirs": 1, "mine": 2}


@pytest.mark.engines("file")
def test_an_uncontended_file_save_does_not_decode_the_file_again(engine, monkeypatch):
    """Under its lock the file store compares the file's text with what it loaded."""
    from django.contrib.sessions.backends.base import SessionBase

    store = import_module(settings.SESSION_ENGINE).SessionStore
    first = store()
    first["seed"] = 0
    first.save()
    session = store(session_key=first.session_key)
    session.keys()
    decoded = []
    original = SessionBase.decode

    def counting(self, session_data):  # type: ignore[no-untyped-def]
        decoded.append(session_data)
        return original(self, session_data)

    monkeypatch.setattr(SessionBase, "decode", counting)
    session["mine"] = 1
    session.save()
    assert decoded == []
    other = store(session_key=first.session_key)
    other.keys()  # the load decodes, as always
    assert len(decoded) == 1
    assert dict(other.items())["mine"] == 1


@pytest.mark.engines("cache")  # the version is the cache engine's
def test_a_cache_session_without_a_version_is_given_one_by_the_locked_merge(engine):
    """Data with no version (written before it existed, or the token evicted) is never
    compared-and-set blindly: its save takes the lock, and leaves a version behind."""
    from django.core.cache import caches

    from sessions_api.engines.cache import VERSION_SUFFIX
    from sessions_api.engines.django_internals import redis_client

    store = import_module(settings.SESSION_ENGINE).SessionStore
    seeded = store()
    seeded["seed"] = 0
    seeded.save()
    cache = caches[settings.SESSION_CACHE_ALIAS]
    version = cache.make_and_validate_key(seeded.cache_key) + VERSION_SUFFIX
    client = redis_client(cache, key=version, write=True)
    assert client.delete(version) == 1
    first = store(session_key=seeded.session_key)
    first["a"] = 1
    with counted() as (_, commands):
        first.save()
    assert commands[0] == "SET", commands  # straight to the lock (SET NX): no script to try
    assert client.get(version) is not None
    second = store(session_key=seeded.session_key)
    second["b"] = 2
    with counted() as (_, commands):
        second.save()
    assert commands == ["EVAL"]
    assert client_data(store, seeded.session_key) == {"seed": 0, "a": 1, "b": 2}
