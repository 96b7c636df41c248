"""This test run's namespace: one id, and every name, folder and key prefix made from it.

CI runs the suite on this machine several times an hour, two runs may overlap, and
developers run it beside them, all on the same PostgreSQL, Redis and RabbitMQ. So
nothing a run creates has a fixed name: its databases, Redis keys, queues, temporary
folders and logs all carry ``RUN_ID``, and the run deletes them when it ends
(tests/conftest.py). A run that dies first leaves names no later run will reuse.

The id is made once, in the pytest process. The processes the run starts get it in
``TESTS_RUN_ID`` (see ``child_env``) and derive the same names from it. Nothing here
touches a service or the disk at import time: bench/soak.py imports tests.servers too.
"""

from __future__ import annotations

import functools
import os
import socket
import tempfile
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]

# Short, lowercase hex: valid in a PostgreSQL database name, a Redis key, a queue name.
RUN_ID = os.environ.get("TESTS_RUN_ID") or uuid.uuid4().hex[:12]
# True in the pytest process, which owns the namespace and cleans it up; False in the
# Celery workers it starts, which only use it.
OWNS_RUN = "TESTS_RUN_ID" not in os.environ

# Every temporary file of the run (test database, session files, static root), so one
# rmtree at the end removes them all.
TEMP_DIR = Path(tempfile.gettempdir()) / f"sessions-api-tests-{RUN_ID}"
# What the tests leave for a person to look at (screenshots, fuzz reports, logs).
ARTIFACTS = ROOT / "test-artifacts"
# Every log the run writes; the log check greps this folder (and nothing older).
LOG_DIR = ARTIFACTS / "logs" / RUN_ID

# One Redis database shared by every test run, each run under its own key prefix (there
# are only 16 databases). Not 15: checkouts from before per-run prefixes FLUSHDB 15
# around every test, and would wipe a newer run's keys under it.
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 10
# Every Redis key of the run starts with this and a colon: the in-process cache under
# ``<prefix>:main``, each server the tests start under ``<prefix>:svc-<id>``.
KEY_PREFIX = f"tests-{RUN_ID}"
MAIN_KEY_PREFIX = f"{KEY_PREFIX}:main"


def child_env() -> dict[str, str]:
    """What a process started by the run needs in its environment to share its names."""
    return {"TESTS_RUN_ID": RUN_ID}


def reachable(host: str, port: int) -> bool:
    """Whether something accepts TCP connections there (a local service is up)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@functools.cache
def redis_available() -> bool:
    return reachable(REDIS_HOST, REDIS_PORT)


@functools.cache
def rabbitmq_available() -> bool:
    return reachable("127.0.0.1", 5672)


@functools.cache
def postgres_available() -> bool:
    return reachable("127.0.0.1", 5432)


def redis_location(*, port: int = REDIS_PORT) -> str:
    """The run's Redis database as a Redis URL (a cache's LOCATION); ``port`` may be a
    proxy in front of Redis."""
    return f"redis://{REDIS_HOST}:{port}/{REDIS_DB}"


def cache_url(key_prefix: str, *, port: int = REDIS_PORT) -> str:
    """A CACHE_URL on the run's Redis database with ``key_prefix`` (Django's KEY_PREFIX;
    django-environ reads it from the query). ``port`` may be a proxy in front of Redis."""
    return f"{redis_location(port=port)}?key_prefix={key_prefix}"


def service_key_prefix() -> str:
    """A new cache namespace inside the run's, for one service the tests start: no
    in-process cache cleaning and no other test's server touches it."""
    return f"{KEY_PREFIX}:svc-{uuid.uuid4().hex[:8]}"


def service_cache_url(*, port: int = REDIS_PORT) -> str:
    """A CACHE_URL in a new service namespace (``service_key_prefix``)."""
    return cache_url(service_key_prefix(), port=port)


def delete_cache_keys(prefix: str, *, client: redis.Redis | None = None) -> int:
    """Delete the keys under ``prefix`` + ``:`` and no other, on the run's Redis database
    (or through ``client``, a connection to another).

    SCAN, not KEYS or FLUSHDB: other runs' keys stay, and the server they use is not
    blocked while it walks the database.
    """
    if not prefix.startswith(KEY_PREFIX):
        # A bug here would delete another run's keys (or, with "", everyone's).
        raise ValueError(f"{prefix!r} is not inside this run's namespace {KEY_PREFIX!r}")
    client = client or _redis()
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += client.unlink(*batch)
    return deleted


def cache_keys(prefix: str = KEY_PREFIX) -> list[bytes]:
    """The keys under ``prefix`` + ``:`` on the run's Redis database."""
    return list(_redis().scan_iter(match=f"{prefix}:*", count=1000))


@functools.cache
def _redis() -> redis.Redis:
    """One client (one connection pool) for the process, made when first needed."""
    return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)


def queue_name(purpose: str) -> str:
    """A RabbitMQ queue of this run (Celery names its exchange alike)."""
    return f"tests-{RUN_ID}-{purpose}"


def database_name(purpose: str) -> str:
    """A PostgreSQL database of this run."""
    return f"sessions_api_{purpose}_{RUN_ID}"
