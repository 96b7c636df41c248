"""No lost updates: overlapping writes to different keys of one session all survive."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from sessions_api.engines.base import merge_changes
from tests.servers import (
    HttpSession,
    gunicorn,
    manage,
    postgres_database,
    postgres_url,
    service_env,
)
from tests.support.engines import CACHE_ENGINES, SERVER_SIDE
from tests.support.sessions import client_data, two_requests_on_one_session


def test_merge_applies_only_what_this_request_changed():
    base = {"a": 1, "b": 2, "gone": 0}
    mine = {"a": 1, "b": 20, "new": 5}  # changed b, added new, deleted gone
    theirs = {"a": 10, "b": 2, "gone": 0, "other": 7}  # someone changed a, added other
    assert merge_changes(base=base, mine=mine, theirs=theirs) == {
        "a": 10,
        "b": 20,
        "new": 5,
        "other": 7,
    }


@pytest.mark.engines(*SERVER_SIDE)
def test_two_overlapping_stores_keep_both_changes(engine):
    store, key, a, b = two_requests_on_one_session(engine)
    a["x"] = 1
    b["y"] = 2
    del b["seed"]
    a.save()
    b.save()
    assert client_data(store, key) == {"x": 1, "y": 2}


@pytest.mark.integration
@pytest.mark.standalone
@pytest.mark.parametrize(
    ("engine_name", "database"),
    [
        ("db", "sqlite"),
        ("db", "postgres"),
        ("cached_db", "sqlite"),
        ("cache", "sqlite"),
        ("file", "sqlite"),
    ],
)
def test_a_thousand_concurrent_puts_to_one_session_lose_nothing(
    tmp_path, engine_name, database, request
):
    if engine_name in CACHE_ENGINES:
        request.getfixturevalue("redis_server")
    # The server's cache is a namespace of its own on the run's Redis (service_env).
    env = {
        "SESSION_ENGINE": engine_name,
        "SESSION_FILE_PATH": str(tmp_path),
        "SESSION_API_MAX_KEYS": "2000",
    }
    with ExitStack() as stack:
        if database == "postgres":
            request.getfixturevalue("postgres_server")
            name = stack.enter_context(postgres_database("concurrency"))
            env["DATABASE_URL"] = postgres_url(name)
        else:
            env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        env = service_env(**env)
        manage("migrate", "--noinput", env=env)
        base = stack.enter_context(gunicorn(env, workers=2))
        browser = HttpSession(base)
        browser.fetch_csrf()
        assert browser.request("PUT", "/api/v1/session/keys/seed/", {"value": 0})[0] == 201
        cookies, csrf = dict(browser.cookies), browser.csrf

        def put(index: int) -> int:
            tab = HttpSession(base)  # another tab of the same browser: same cookies
            tab.cookies, tab.csrf = dict(cookies), csrf
            return tab.request("PUT", f"/api/v1/session/keys/k{index:04d}/", {"value": index})[0]

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(put, range(1000)))
        elapsed = time.monotonic() - started
        status, items, _ = browser.request("GET", "/api/v1/session/keys/")
    assert statuses.count(201) == 1000, {s: statuses.count(s) for s in set(statuses)}
    assert status == 200
    keys = {item["key"] for item in items}
    present = len(keys - {"seed"})
    print(
        f"\n{engine_name} on {database}: 1000 PUTs, 50 in flight, 2 workers: "
        f"{present} keys present, {1000 / elapsed:.0f} req/s"
    )
    assert present == 1000
