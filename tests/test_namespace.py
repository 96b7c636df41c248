"""The run's namespace (tests/namespace.py): what this run makes carries its id, and its
cleanups touch nothing else, on the real Redis and database."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.namespace import (
    KEY_PREFIX,
    MAIN_KEY_PREFIX,
    RUN_ID,
    TEMP_DIR,
    cache_keys,
    delete_cache_keys,
    service_key_prefix,
)
from tests.servers import service_env
from tests.support.clients import clear_run_cache


@pytest.fixture
def redis_client(redis_server):
    return cache._cache.get_client(write=True)


def test_the_cache_cleaner_deletes_this_process_keys_only(redis_client):
    server_key = f"{service_key_prefix()}:1:a-server-session"
    other_run_key = "tests-0123456789ab:main:1:another-run-session"
    try:
        cache.set("mine", 1)
        redis_client.set(server_key, b"kept")
        redis_client.set(other_run_key, b"kept")
        assert cache_keys(MAIN_KEY_PREFIX) == [f"{MAIN_KEY_PREFIX}:1:mine".encode()]

        clear_run_cache()

        assert cache.get("mine") is None
        assert redis_client.get(server_key) == b"kept"
        assert redis_client.get(other_run_key) == b"kept"
    finally:
        redis_client.delete(server_key, other_run_key)


def test_deleting_a_namespace_deletes_its_keys_and_no_neighbour(redis_client):
    # As the end of the run deletes everything under KEY_PREFIX, on a namespace of its
    # own (the whole run's would take live servers' keys with it).
    prefix = service_key_prefix()
    mine = [f"{prefix}:1:a", f"{prefix}:1:b:lock"]
    neighbours = [f"{prefix}x:1:a", f"{KEY_PREFIX}x:1:a", "tests-0123456789ab:svc-1:1:a"]
    try:
        for key in mine + neighbours:
            redis_client.set(key, b"x")

        assert delete_cache_keys(prefix) == 2

        assert cache_keys(prefix) == []
        assert all(redis_client.get(key) == b"x" for key in neighbours)
    finally:
        redis_client.delete(*mine, *neighbours)


@pytest.mark.parametrize("prefix", ["", "tests-", "tests-0123456789ab"])
def test_keys_outside_the_run_are_never_deleted(prefix):
    with pytest.raises(ValueError, match="not inside this run's namespace"):
        delete_cache_keys(prefix)


def test_each_server_gets_a_cache_namespace_of_its_own(redis_server):
    first, second = service_env()["CACHE_URL"], service_env()["CACHE_URL"]
    assert first != second
    for url in (first, second):
        prefix = url.partition("key_prefix=")[2]
        assert prefix.startswith(f"{KEY_PREFIX}:svc-")
        # Not under the test process's prefix, which the cache cleaner empties.
        assert not f"{prefix}:".startswith(f"{MAIN_KEY_PREFIX}:")


def test_the_environment_that_servers_inherit_holds_nothing_of_this_run(monkeypatch):
    inherited = {k: v for k, v in os.environ.items() if RUN_ID in v or k.startswith("TESTS_")}
    assert inherited == {}
    # Even a run value that did reach the environment stays out of a server's.
    monkeypatch.setenv("TESTS_LEFTOVER", RUN_ID)
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/15")
    env = service_env()
    assert "TESTS_LEFTOVER" not in env
    assert env.get("CACHE_URL", "") != "redis://127.0.0.1:6379/15"


@pytest.mark.django_db
def test_the_test_database_and_queue_carry_the_run_id():
    # SQLite: a file in the run's temporary folder; PostgreSQL: test_<name>_<run id>.
    assert RUN_ID in str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        assert str(connection.settings_dict["NAME"]).startswith(str(TEMP_DIR))
    assert RUN_ID in settings.CELERY_TASK_DEFAULT_QUEUE
    assert str(settings.SESSION_FILE_PATH).startswith(str(TEMP_DIR))
