"""What the benchmark runs on and in: the local services, the engines and server kinds
it compares, each server's environment, fresh databases, and the machine's facts.

The generic pieces (which inherited variables a child keeps, ``manage.py``, a fresh
PostgreSQL database, whether a port answers) are the tests' own, from tests/servers.py and
tests/namespace.py.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import WORK, BenchError, Engine
from tests import namespace, servers

# The serving model of the run's servers: ASGI (the default, as in production) or
# gunicorn's sync worker (BENCH_GUNICORN_INTERFACE=wsgi).
SERVING_MODEL = os.environ.get("BENCH_GUNICORN_INTERFACE", "asgi")

BIN = Path(sys.executable).parent
SECRET_KEY = "bench-only-secret-key-" + "b" * 40
POSTGRES_DB = "sessions_api_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"  # tests use 14 and 15, docker-compose 1
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
SERVICES = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672}
# Inherited variables that would change what is measured (a developer's own
# DJANGO_*, SESSION_*, GUNICORN_* ...): every server starts without them.
DROPPED = (
    "DJANGO_",
    "SESSION_",
    "GUNICORN_",
    "CELERY_",
    "TASKS_",
    "DATABASE_URL",
    "CACHE_URL",
    "LOG_",
    "PYTEST_",
    "BENCH_",
)
VARIANTS = {
    # name: (settings module, BENCH_BASELINE_STORE)
    "django": ("bench.settings_baseline", "django"),
    "store": ("bench.settings_baseline", "project"),
    "api": ("api_project.settings", None),
}


ENGINES = (
    Engine("db-sqlite", "db (SQLite)", "db", "sqlite"),
    Engine("db-postgres", "db (PostgreSQL)", "db", "postgres", ("postgres",)),
    Engine("cache", "cache (Redis)", "cache", "sqlite", ("redis",)),
    Engine("cached_db", "cached_db (Redis + SQLite)", "cached_db", "sqlite", ("redis",)),
    Engine("signed_cookies", "signed_cookies", "signed_cookies", "sqlite", seeds=("small",)),
    Engine("file", "file", "file", "sqlite"),
)


def up(service: str) -> bool:
    """Whether the local ``postgres``, ``redis`` or ``rabbitmq`` answers."""
    return namespace.reachable("127.0.0.1", SERVICES[service])


def base_env() -> dict[str, str]:
    """The service's environment: production-like settings, our own stores.

    Unlike the tests' ``service_env``, static files are served as in production, from
    STATIC_ROOT (``prepare_databases`` collects them), not found per request.
    """
    env = servers.inherited_env(DROPPED)
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "DJANGO_SETTINGS_MODULE": "api_project.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"sqlite:///{WORK / 'bench.sqlite3'}",
            "SESSION_FILE_PATH": str(WORK / "sessions"),
            "CELERY_BROKER_URL": AMQP_URL,
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "1",
            "GUNICORN_LOG_LEVEL": "warning",
            "GUNICORN_INTERFACE": SERVING_MODEL,
        }
    )
    if up("redis"):
        # As in production (README): Redis behind the cache, for every engine.
        env["CACHE_URL"] = REDIS_URL
    return env


def engine_env(engine: Engine) -> dict[str, str]:
    env = base_env()
    env["SESSION_ENGINE"] = engine.session_engine
    if engine.database == "postgres":
        env["DATABASE_URL"] = servers.postgres_url(POSTGRES_DB)
    return env


def variant_env(env: dict[str, str], variant: str) -> dict[str, str]:
    settings_module, store = VARIANTS[variant]
    env = {**env, "DJANGO_SETTINGS_MODULE": settings_module}
    if store:
        env["BENCH_BASELINE_STORE"] = store
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    """``manage.py``; a failure stops the run with its stderr, not a traceback."""
    try:
        servers.manage(*args, env=env, timeout=600)
    except subprocess.CalledProcessError as error:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{error.stderr[-3000:]}") from error


def prepare_databases(need_postgres: bool) -> None:
    """A fresh SQLite file and (when needed) a fresh PostgreSQL database, migrated."""
    WORK.mkdir(parents=True, exist_ok=True)
    for leftover in WORK.glob("bench.sqlite3*"):
        leftover.unlink()
    shutil.rmtree(WORK / "sessions", ignore_errors=True)
    (WORK / "sessions").mkdir()
    env = base_env()
    manage("migrate", "--noinput", env=env)
    # Production serves static files from STATIC_ROOT (as `make run` prepares it).
    manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    if need_postgres:
        servers.fresh_postgres_database(POSTGRES_DB)
        manage("migrate", "--noinput", env=engine_env(ENGINES[1]))


def machine_facts() -> dict[str, Any]:
    import celery
    import django
    import gunicorn
    import kombu
    import rest_framework

    facts: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor() or "?",
        ),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "gunicorn": gunicorn.__version__,
        "celery": celery.__version__,
        "kombu": kombu.__version__,
        "wrk": _first_line(["wrk", "--version"]),
    }
    import sqlite3

    facts["sqlite"] = sqlite3.sqlite_version
    if up("postgres"):
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(servers.POSTGRES_ADMIN_URL) as connection:
                facts["postgresql"] = connection.execute("SHOW server_version").fetchone()[0]
    if up("redis"):
        with contextlib.suppress(Exception):
            import redis

            facts["redis"] = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    if up("rabbitmq"):
        with contextlib.suppress(Exception):
            from kombu import Connection

            with Connection(AMQP_URL, connect_timeout=3) as connection:
                connection.connect()
                props = connection.connection.server_properties
                version = props.get("version")
                facts["rabbitmq"] = version.decode() if isinstance(version, bytes) else version
    return facts


def _first_line(command: list[str]) -> str:
    with contextlib.suppress(OSError):
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    return "?"
