"""In-process look at one request: what it sends to the database and cache, and where
its time goes.

``bench/run.py`` calls this (``--count``) once per engine and variant to report how
many SQL statements and Redis commands each operation costs. A person calls it to
profile one operation with pyinstrument::

    # the environment chooses the engine, as for the service
    SESSION_ENGINE=cache CACHE_URL=redis://127.0.0.1:6379/11 DJANGO_SECRET_KEY=$(cat .secret_key) \\
        .venv/bin/python bench/probe.py --variant api --profile put_key -n 3000

Variants: ``api`` (the service), ``django`` (the bare Django baseline: plain views and
Django's own session store), ``store`` (plain views over the service's session store).
Requests go through Django's test client, so the whole middleware stack and the view
run exactly as under gunicorn, without the server and the socket.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

VARIANT_SETTINGS = {
    "api": ("api_project.settings", None),
    "django": ("bench.settings_baseline", "django"),
    "store": ("bench.settings_baseline", "project"),
}

# The session every benchmark client starts with (bench/load.py seeds the servers' too).
SEED: dict[str, Any] = {
    "profile": {"name": "Ana", "langs": ["en", "pt"], "beta": True},
    "theme": "dark",
    "cart": [{"sku": "A-100", "qty": 2}, {"sku": "B-7", "qty": 1}],
    "counter": 0,
}
# The large seed: the same keys plus twelve values of 4 KB of text (about 48 KB of
# session as compact JSON), such as carts, drafts or wizard state grow to. The text is
# random letters from a fixed seed: every run stores the same bytes, which compress as
# ordinary text does rather than to nothing.
LARGE_VALUES = 12
LARGE_VALUE_CHARS = 4096


def _text(index: int) -> str:
    rng = random.Random(index)
    return "".join(rng.choices(string.ascii_letters + string.digits + " ", k=LARGE_VALUE_CHARS))


SEEDS: dict[str, dict[str, Any]] = {
    "small": SEED,
    "48k": {**SEED, **{f"blob{index:02d}": _text(index) for index in range(LARGE_VALUES)}},
}
# How the report names them.
SEED_LABELS = {"small": "4 small keys", "48k": "~48 KB"}
GET_KEY = "/api/v1/session/keys/profile/"
PUT_KEY = "/api/v1/session/keys/counter/"
SESSION = "/api/v1/session/"
OPS = ("get_key", "put_key", "get_session")


def setup(variant: str) -> None:
    """Configure Django for ``variant`` (before anything imports settings)."""
    settings_module, store = VARIANT_SETTINGS[variant]
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    if store:
        os.environ["BENCH_BASELINE_STORE"] = store
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class Counter:
    """Counts SQL statements (with their text) and Redis commands while active."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.redis: list[str] = []
        self.active = False

    def sql_wrapper(self, execute: Callable, sql: str, params: Any, many: bool, context: Any):
        if self.active:
            self.sql.append(" ".join(sql.split())[:160])
        return execute(sql, params, many, context)

    @contextmanager
    def counting(self) -> Iterator[Counter]:
        self.sql, self.redis, self.active = [], [], True
        try:
            yield self
        finally:
            self.active = False


def install_counter() -> Counter:
    """Hook the database connection and redis-py so every statement is seen."""
    from django.db import connection

    counter = Counter()
    # execute_wrapper is per connection and per context; push ours for the process.
    connection.execute_wrappers.append(counter.sql_wrapper)
    try:
        import redis.client
    except ImportError:  # pragma: no cover - redis is a runtime dependency
        return counter
    original = redis.client.Redis.execute_command

    def execute_command(self: Any, *args: Any, **options: Any) -> Any:
        if counter.active:
            counter.redis.append(str(args[0]))
        return original(self, *args, **options)

    redis.client.Redis.execute_command = execute_command  # type: ignore[method-assign]
    return counter


class Browser:
    """One browser: Django's test client with the CSRF header set from its cookie."""

    def __init__(self, seed: str = "small") -> None:
        from django.conf import settings
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
        response = self.client.get("/api/v1/auth/csrf/")
        assert response.status_code == 200, response.content
        self.token = response.json()["csrf_token"]
        self.csrf_cookie = settings.CSRF_COOKIE_NAME
        self.counter = 0
        for key, value in SEEDS[seed].items():
            self.put(f"/api/v1/session/keys/{key}/", {"value": value})

    def put(self, path: str, body: Any) -> Any:
        response = self.client.put(
            path, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=self.token
        )
        assert response.status_code in (200, 201), (path, response.status_code, response.content)
        return response

    def get(self, path: str) -> Any:
        response = self.client.get(path, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, (path, response.status_code, response.content)
        return response

    def op(self, name: str) -> Any:
        if name == "get_key":
            return self.get(GET_KEY)
        if name == "put_key":
            self.counter += 1  # a new value each time, as the load generator sends
            return self.put(PUT_KEY, {"value": self.counter})
        if name == "get_session":
            return self.get(SESSION)
        raise ValueError(name)


def count(ops: tuple[str, ...], seed: str = "small") -> dict[str, Any]:
    """Per operation: SQL statements and Redis commands of one warm request."""
    counter = install_counter()
    browser = Browser(seed)
    result: dict[str, Any] = {}
    for name in ops:
        browser.op(name)  # warm: first-use costs (connections, caches) are not counted
        with counter.counting():
            browser.op(name)
        result[name] = {
            "sql": len(counter.sql),
            "redis": len(counter.redis),
            "statements": counter.sql,
            "commands": counter.redis,
        }
    return result


def profile(name: str, requests: int, interval: float, seed: str = "small") -> None:
    """Profile ``requests`` calls of one operation with pyinstrument; print the tree."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is not installed: pip install pyinstrument") from None
    browser = Browser(seed)
    for _ in range(50):
        browser.op(name)
    profiler = Profiler(interval=interval)
    started = time.perf_counter()
    profiler.start()
    for _ in range(requests):
        browser.op(name)
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(
        f"# {name}: {requests} requests in {elapsed:.2f} s, {elapsed / requests * 1e6:.0f} us each"
    )
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def time_ops(ops: tuple[str, ...], requests: int, seed: str = "small") -> dict[str, float]:
    """CPU microseconds per request for each operation, in-process (no profiler).

    Process CPU time, not wall time: steady on a shared machine, where another
    process taking the core would inflate a stopwatch. Time spent waiting on a
    database or cache server is not in it.
    """
    browser = Browser(seed)
    result = {}
    for name in ops:
        for _ in range(50):
            browser.op(name)
        started = time.process_time()
        for _ in range(requests):
            browser.op(name)
        result[name] = round((time.process_time() - started) / requests * 1e6, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=sorted(VARIANT_SETTINGS), default="api")
    parser.add_argument("--ops", default=",".join(OPS), help="comma list of " + ", ".join(OPS))
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--count", action="store_true", help="print SQL/Redis counts as JSON")
    mode.add_argument("--profile", choices=OPS, help="profile one operation with pyinstrument")
    mode.add_argument("--time", action="store_true", help="print CPU us per request as JSON")
    parser.add_argument(
        "--seed", choices=sorted(SEEDS), default="small", help="the session every client holds"
    )
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=0.0001, help="sampling interval, s")
    args = parser.parse_args()
    setup(args.variant)
    ops = tuple(op for op in args.ops.split(",") if op)
    if args.count:
        print(json.dumps(count(ops, args.seed)))
    elif args.time:
        print(json.dumps(time_ops(ops, args.requests, args.seed)))
    else:
        profile(args.profile, args.requests, args.interval, args.seed)


if __name__ == "__main__":
    main()
