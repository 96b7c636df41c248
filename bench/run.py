"""Benchmarks: the API beside a bare Django baseline, in one run (``make bench``).

What one run does (issue 7):

1. **Sessions, per engine** (``db`` on SQLite and on PostgreSQL, ``cache`` and
   ``cached_db`` on Redis, ``signed_cookies``, ``file``). Three gunicorn servers run
   side by side, each with the service's own gunicorn configuration
   (``api_project/gunicorn.conf.py``), one sync worker, ``DJANGO_DEBUG=false``, pinned
   to core 0 with ``taskset``:

   * ``api``: the service (``api_project.settings``);
   * ``django``: the bare Django baseline: plain function views
     (``bench/baseline_urls.py``) under the same middleware, on Django's own session
     store for the engine (``bench/settings_baseline.py``);
   * ``store``: the same plain views on the service's session store (expiry stamp,
     locked merge on save). It splits the API's cost into what the store adds and
     what the view layer adds; measured for GET key and PUT key.

   wrk (pinned to core 1, ``bench/wrk.lua``) sends the same requests to each, with the
   session and CSRF cookies and the ``X-CSRFToken`` header: GET key, PUT key (a new
   value each time), GET session. Several rounds, alternating the order of the
   servers each round; medians are reported, and the API ÷ baseline ratio is the
   median of the per-round ratios. Every response is checked: one non-2xx answer or
   socket error fails the run.

2. **Requests' cost in queries**: ``bench/probe.py`` counts the SQL statements and
   Redis commands of one warm request of each operation, per engine and server kind.

3. **Memory**: RSS of the API's gunicorn worker (``db`` on SQLite) after warm-up and
   after 20,000 more requests (a mix of the three operations).

4. **Tasks** (RabbitMQ, django-celery-results on SQLite): ``POST /api/v1/tasks/``
   throughput (``demo.add``) beside a raw ``apply_async`` loop publishing the same task
   to the same queue with the same publisher-confirm setting (no worker running: both
   only publish); then, with one worker process, enqueue-to-SUCCESS latency polled
   through the API beside the raw ``apply_async().get()`` round trip.

Results go to ``bench/results.md``, ``bench/results.json`` and ``bench/ratios.png``
(a partial run, with ``--engines``/``--sections``/``--ops``, writes to
``bench/.work/`` instead, so the committed results are always a full run). Logs of
every server are kept in ``bench/.work/logs/``.

Needs: the services (PostgreSQL, Redis, RabbitMQ on their usual local ports; an
engine or section whose service does not answer is reported as skipped), ``wrk``
(Debian: ``apt-get install -y wrk``), ``taskset``, and ``matplotlib`` for the chart
(requirements-dev.txt). A full run takes about 13 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import http.cookies
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
LOGS = WORK / "logs"
BIN = Path(sys.executable).parent
LUA = BENCH / "wrk.lua"
GUNICORN_CONF = ROOT / "api_project" / "gunicorn.conf.py"

SERVER_CORE = 0  # every gunicorn, the raw publish loop
LOAD_CORE = 1  # wrk, this script, the Celery worker

SECRET_KEY = "bench-only-secret-key-" + "b" * 40
POSTGRES_ADMIN_DSN = "dbname=postgres user=postgres host=127.0.0.1 port=5432"
POSTGRES_DB = "sessions_api_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"  # tests use 14 and 15, docker-compose 1
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
SERVICES = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672}

# What each session client holds before the load starts (the same as bench/probe.py).
SEED: dict[str, Any] = {
    "profile": {"name": "Ana", "langs": ["en", "pt"], "beta": True},
    "theme": "dark",
    "cart": [{"sku": "A-100", "qty": 2}, {"sku": "B-7", "qty": 1}],
    "counter": 0,
}
OPS = ("get_key", "put_key", "get_session")
OP_LABELS = {"get_key": "GET key", "put_key": "PUT key", "get_session": "GET session"}
# The store-only server prices the store where it matters: reads and writes of a key.
OP_VARIANTS = {
    "get_key": ("django", "store", "api"),
    "put_key": ("django", "store", "api"),
    "get_session": ("django", "api"),
}
VARIANTS = {
    # name: (settings module, BENCH_BASELINE_STORE)
    "django": ("bench.settings_baseline", "django"),
    "store": ("bench.settings_baseline", "project"),
    "api": ("api_project.settings", None),
}
MEMORY_REQUESTS = 20_000  # the targets themselves are in bench/report.py
POLL_INTERVAL = 0.002  # seconds between polls, for the API client and for get() alike


@dataclass(frozen=True)
class Engine:
    """One engine/storage combination of the sessions table."""

    id: str
    label: str
    session_engine: str
    database: str  # "sqlite" or "postgres"
    needs: tuple[str, ...] = ()


ENGINES = (
    Engine("db-sqlite", "db (SQLite)", "db", "sqlite"),
    Engine("db-postgres", "db (PostgreSQL)", "db", "postgres", ("postgres",)),
    Engine("cache", "cache (Redis)", "cache", "sqlite", ("redis",)),
    Engine("cached_db", "cached_db (Redis + SQLite)", "cached_db", "sqlite", ("redis",)),
    Engine("signed_cookies", "signed_cookies", "signed_cookies", "sqlite"),
    Engine("file", "file", "file", "sqlite"),
)


class BenchError(Exception):
    """The run cannot go on or produced a wrong answer: stop, loudly."""


# --- Processes -----------------------------------------------------------------------

_CHILDREN: list[subprocess.Popen] = []


def pinned(core: int) -> list[str]:
    """The taskset prefix that runs a command on ``core`` (none on a 1-CPU machine)."""
    if os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
        return ["taskset", "-c", str(core)]
    return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (gunicorn and Celery shut down gracefully), then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ValueError):
        _CHILDREN.remove(process)


def spawn(command: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a long-running child; it is stopped when the run ends, however it ends."""
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    _CHILDREN.append(process)
    return process


def run_json(command: list[str], *, env: dict[str, str], timeout: float) -> Any:
    """Run a helper that prints one JSON object last; fail loudly on any error."""
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise BenchError(
            f"{' '.join(command[:6])} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Environment -----------------------------------------------------------------------


def base_env() -> dict[str, str]:
    """The service's environment: production-like settings, our own stores.

    Inherited variables that would change what is measured (a developer's own
    DJANGO_*, SESSION_*, GUNICORN_* ...) are dropped.
    """
    dropped = (
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
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
        }
    )
    if reachable(SERVICES["redis"]):
        # As in production (README): Redis behind the cache, for every engine.
        env["CACHE_URL"] = REDIS_URL
    return env


def engine_env(engine: Engine) -> dict[str, str]:
    env = base_env()
    env["SESSION_ENGINE"] = engine.session_engine
    if engine.database == "postgres":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{POSTGRES_DB}"
    return env


def variant_env(env: dict[str, str], variant: str) -> dict[str, str]:
    settings_module, store = VARIANTS[variant]
    env = {**env, "DJANGO_SETTINGS_MODULE": settings_module}
    if store:
        env["BENCH_BASELINE_STORE"] = store
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")


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
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}"')
            connection.execute(f'CREATE DATABASE "{POSTGRES_DB}"')
        manage("migrate", "--noinput", env=engine_env(ENGINES[1]))


# --- Servers and clients ---------------------------------------------------------------


class Server:
    """One gunicorn (the service's config, one sync worker) pinned to the server core."""

    by_port: ClassVar[dict[int, Server]] = {}

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        Server.by_port[self.port] = self
        self._worker: int | None = None
        self.log = LOGS / f"{name}-{self.port}.log"
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        command = [*pinned(SERVER_CORE), str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF)]
        self.process = spawn(command, env=env, log=self.log)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                if Browser(self.port).request("GET", "/healthz")[0] == 200:
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"{self.name} did not start; see {self.log}")
            time.sleep(0.1)

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        # taskset execs gunicorn, so the pid we started is gunicorn's master.
        pids = children.read_text().split() if children.exists() else []
        if len(pids) != 1:
            raise BenchError(f"{self.name}: expected one gunicorn worker, found {pids}")
        return int(pids[0])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the worker so far."""
        if self._worker is None:
            self._worker = self.worker_pid()
        fields = Path(f"/proc/{self._worker}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of proc(5); the split drops the first 2.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.worker_pid()}/status").read_text()
        kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))  # type: ignore[union-attr]
        return kib / 1024

    def stop(self) -> None:
        Server.by_port.pop(self.port, None)
        stop_process(self.process)


class Browser:
    """A tiny cookie-keeping JSON client over http.client: one user's browser."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        try:
            connection.request(
                method, path, body=None if body is None else json.dumps(body), headers=headers
            )
            response = connection.getresponse()
            raw = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel.value:
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            try:
                content = json.loads(raw) if raw else None
            except ValueError:
                content = raw[:300]
            return response.status, content
        finally:
            connection.close()

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def expect(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> Any:
        status, content = self.request(method, path, body)
        if status not in ok:
            raise BenchError(f"{method} {path} on :{self.port} answered {status}: {content}")
        return content

    def start_session(self) -> None:
        """CSRF cookie and token, then the seeded keys; checks the API answers right."""
        self.csrf = self.expect("GET", "/api/v1/auth/csrf/")["csrf_token"]
        for key, value in SEED.items():
            self.expect("PUT", f"/api/v1/session/keys/{key}/", {"value": value}, ok=(200, 201))
        got = self.expect("GET", "/api/v1/session/keys/profile/")
        if got != {"key": "profile", "value": SEED["profile"]}:
            raise BenchError(f"GET key on :{self.port} returned {got}")


# --- Load --------------------------------------------------------------------------------


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    cpu_us: float = float("nan")  # the worker's CPU time per request (user + system)


def wrk(port: int, mode: str, browser: Browser, seconds: float, connections: int) -> Sample:
    """One wrk run; any non-2xx response or socket error fails the whole run.

    Beside requests/s and latency, the gunicorn worker's CPU time per request: the
    steadier figure on a shared machine, since another process taking the server's
    core lowers requests/s but not the CPU the worker spends on a request. It leaves
    out the database's and cache's own work, which runs in their servers.
    """
    server = Server.by_port.get(port)
    cpu_before = server.cpu_seconds() if server else None
    command = [
        *pinned(LOAD_CORE),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        mode,
        browser.cookie_header(),
        browser.csrf,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    summary = json.loads(line.removeprefix("BENCH_JSON "))
    errors = {name: count for name, count in summary["errors"].items() if count}
    if summary["non2xx"] or errors or not summary["requests"]:
        raise BenchError(
            f"{mode} on :{port}: {summary['non2xx']} non-2xx responses, socket errors "
            f"{errors or 'none'}, {summary['requests']} requests; first bad answer: "
            f"{summary['first_bad'] or '-'}"
        )
    cpu_us = float("nan")
    if server is not None and cpu_before is not None:
        cpu_us = (server.cpu_seconds() - cpu_before) / summary["requests"] * 1e6
    return Sample(
        rps=summary["requests"] / (summary["duration_us"] / 1e6),
        p50_ms=summary["latency_us"]["p50"] / 1000,
        p99_ms=summary["latency_us"]["p99"] / 1000,
        requests=summary["requests"],
        cpu_us=cpu_us,
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


# --- Sections --------------------------------------------------------------------------


@dataclass
class Options:
    engines: list[Engine]
    ops: tuple[str, ...]
    sections: set[str]
    rounds: int
    seconds: float
    warmup: float
    connections: int
    output: Path
    full: bool


@dataclass
class Results:
    started: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, Any] = field(default_factory=dict)
    queries: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def count_queries(engine: Engine, variants: tuple[str, ...]) -> dict[str, Any]:
    """SQL statements and Redis commands per request, from bench/probe.py."""
    counts = {}
    for variant in variants:
        env = {**engine_env(engine), "LOG_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore"}
        counts[variant] = run_json(
            [
                *pinned(LOAD_CORE),
                sys.executable,
                str(BENCH / "probe.py"),
                "--variant",
                variant,
                "--count",
            ],
            env=env,
            timeout=120,
        )
    return counts


def bench_engine(engine: Engine, options: Options, results: Results) -> None:
    env = engine_env(engine)
    variants = sorted({v for op in options.ops for v in OP_VARIANTS[op]}, key=list(VARIANTS).index)
    if "queries" in options.sections:
        log(f"{engine.label}: counting queries per request")
        results.queries[engine.id] = count_queries(engine, tuple(variants))
    if "sessions" not in options.sections and not (
        "memory" in options.sections and engine.id == options.engines[0].id
    ):
        return
    servers = {
        variant: Server(f"{engine.id}-{variant}", variant_env(env, variant)) for variant in variants
    }
    try:
        for server in servers.values():
            server.wait_ready()
        browsers = {}
        for variant, server in servers.items():
            browsers[variant] = Browser(server.port)
            browsers[variant].start_session()
        if "sessions" in options.sections:
            measure_sessions(engine, options, results, servers, browsers)
        if "memory" in options.sections and engine.id == options.engines[0].id:
            measure_memory(engine, options, results, servers["api"], browsers["api"])
    finally:
        for server in servers.values():
            server.stop()


def measure_sessions(
    engine: Engine,
    options: Options,
    results: Results,
    servers: dict[str, Server],
    browsers: dict[str, Browser],
) -> None:
    log(f"{engine.label}: warm-up")
    for op in options.ops:
        for variant in OP_VARIANTS[op]:
            wrk(servers[variant].port, op, browsers[variant], options.warmup, options.connections)
    samples: dict[str, dict[str, list[Sample]]] = {
        op: {variant: [] for variant in OP_VARIANTS[op]} for op in options.ops
    }
    for round_no in range(options.rounds):
        for op in options.ops:
            # Alternate the order each round, so a drift in the machine's load does not
            # always favour the same server.
            order = OP_VARIANTS[op] if round_no % 2 == 0 else OP_VARIANTS[op][::-1]
            for variant in order:
                sample = wrk(
                    servers[variant].port,
                    op,
                    browsers[variant],
                    options.seconds,
                    options.connections,
                )
                samples[op][variant].append(sample)
            line = "  ".join(f"{v} {samples[op][v][-1].rps:7.0f}/s" for v in OP_VARIANTS[op])
            log(f"{engine.label} round {round_no + 1}/{options.rounds} {OP_LABELS[op]}: {line}")
    table: dict[str, Any] = {}
    for op, by_variant in samples.items():
        row: dict[str, Any] = {}
        for variant, runs in by_variant.items():
            row[variant] = {
                "rps": median([s.rps for s in runs]),
                "p50_ms": median([s.p50_ms for s in runs]),
                "p99_ms": median([s.p99_ms for s in runs]),
                "cpu_us": median([s.cpu_us for s in runs]),
                "requests": sum(s.requests for s in runs),
                "rounds_rps": [round(s.rps, 1) for s in runs],
            }
        base = by_variant["django"]
        for variant in by_variant:
            if variant != "django":
                ratios = [
                    mine.rps / theirs.rps
                    for mine, theirs in zip(by_variant[variant], base, strict=True)
                ]
                row[variant]["ratio"] = median(ratios)
                row[variant]["rounds_ratio"] = [round(r, 3) for r in ratios]
                # The same comparison in CPU time per request (baseline ÷ this server).
                row[variant]["cpu_ratio"] = median(
                    [
                        theirs.cpu_us / mine.cpu_us
                        for mine, theirs in zip(by_variant[variant], base, strict=True)
                    ]
                )
        table[op] = row
    results.sessions[engine.id] = {"label": engine.label, "ops": table}


def measure_memory(
    engine: Engine, options: Options, results: Results, server: Server, browser: Browser
) -> None:
    """RSS of the API worker after warm-up and after MEMORY_REQUESTS more requests."""
    log(f"memory: warm-up of the API worker ({engine.label})")
    wrk(server.port, "mix", browser, max(options.warmup, 3), options.connections)
    before = server.rss_mb()
    served = 0
    started = time.monotonic()
    while served < MEMORY_REQUESTS:
        served += wrk(server.port, "mix", browser, 5, options.connections).requests
    after = server.rss_mb()
    results.memory = {
        "engine": engine.label,
        "server": "api",
        "requests": served,
        "seconds": round(time.monotonic() - started, 1),
        "rss_before_mb": round(before, 2),
        "rss_after_mb": round(after, 2),
        "growth_mb": round(after - before, 2),
        "mix": "per 4 requests: 2 GET key, 1 GET session, 1 PUT key",
    }
    log(f"memory: {before:.1f} MB -> {after:.1f} MB after {served} requests")


def bench_tasks(options: Options, results: Results) -> None:
    """Enqueue throughput and enqueue-to-SUCCESS latency, API beside raw Celery."""
    if not reachable(SERVICES["rabbitmq"]):
        results.skipped["tasks"] = "skipped: RabbitMQ is not answering on 127.0.0.1:5672"
        return
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    env = {
        **engine_env(ENGINES[0]),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # The per-owner enqueue limit (60/min by default) would stop a load test at
        # once; a rate this high keeps the throttle's work in the path, never its 429.
        "TASKS_ENQUEUE_RATE": "1000000/s",
    }
    raw = [*pinned(SERVER_CORE), sys.executable, str(BENCH / "raw_celery.py")]
    server = Server("tasks-api", env)
    worker = None
    try:
        server.wait_ready()
        browser = Browser(server.port)
        browser.csrf = browser.expect("GET", "/api/v1/auth/csrf/")["csrf_token"]
        body = {"name": "demo.add", "args": {"a": 1, "b": 2}}
        status, content = browser.request("POST", "/api/v1/tasks/", body)
        if status != 202:
            results.skipped["tasks"] = (
                f"skipped: tasks API not available (POST /api/v1/tasks/ answered {status}: "
                f"{str(content)[:200]})"
            )
            return
        task_url = content.get("url") if isinstance(content, dict) else None
        if not task_url:
            raise BenchError(f"POST /api/v1/tasks/ answered 202 without a url: {content}")
        run_json([*raw, "purge"], env=env, timeout=60)

        log("tasks: enqueue throughput (no worker: both sides only publish)")
        wrk(server.port, "post_task", browser, options.warmup, options.connections)
        run_json([*raw, "purge"], env=env, timeout=60)
        api_rates, raw_rates = [], []
        for round_no in range(options.rounds):
            order = ("raw", "api") if round_no % 2 == 0 else ("api", "raw")
            for side in order:
                if side == "raw":
                    out = run_json(
                        [*raw, "publish", "--seconds", str(options.seconds)],
                        env=env,
                        timeout=options.seconds + 120,
                    )
                    raw_rates.append(out["rate"])
                else:
                    api_rates.append(
                        wrk(
                            server.port, "post_task", browser, options.seconds, options.connections
                        ).rps
                    )
                run_json([*raw, "purge"], env=env, timeout=60)
            log(f"tasks round {round_no + 1}: raw {raw_rates[-1]:.0f}/s, API {api_rates[-1]:.0f}/s")

        log("tasks: enqueue-to-SUCCESS latency, one worker process")
        worker = spawn(
            [
                *pinned(LOAD_CORE),
                str(BIN / "celery"),
                "-A",
                "bench.celery_app",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--queues",
                queue,
                "--hostname",
                f"{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "warning",
            ],
            env=env,
            log=LOGS / f"worker-{queue}.log",
        )
        count = 100
        api_ms: list[float] = []
        raw_ms: list[float] = []
        for _ in range(5):  # warm: the worker's first tasks, connections on both sides
            api_roundtrip(browser, body)
        for round_no in range(options.rounds):
            order = ("raw", "api") if round_no % 2 == 0 else ("api", "raw")
            for side in order:
                if side == "raw":
                    out = run_json(
                        [
                            *raw,
                            "roundtrip",
                            "--count",
                            str(count),
                            "--interval",
                            str(POLL_INTERVAL),
                        ],
                        env=env,
                        timeout=600,
                    )
                    raw_ms += out["ms"]
                else:
                    api_ms += [api_roundtrip(browser, body) for _ in range(count)]
            log(
                f"tasks latency round {round_no + 1}: raw p50 {median(raw_ms):.1f} ms, "
                f"API p50 {median(api_ms):.1f} ms"
            )
        results.tasks = {
            "queue": queue,
            "enqueue": {
                "api_rps": median(api_rates),
                "raw_rps": median(raw_rates),
                "ratio": median([a / r for a, r in zip(api_rates, raw_rates, strict=True)]),
                "rounds_api": [round(x, 1) for x in api_rates],
                "rounds_raw": [round(x, 1) for x in raw_rates],
            },
            "latency": {
                "samples_each": len(api_ms),
                "poll_interval_ms": POLL_INTERVAL * 1000,
                "api_p50_ms": percentile(api_ms, 50),
                "api_p99_ms": percentile(api_ms, 99),
                "raw_p50_ms": percentile(raw_ms, 50),
                "raw_p99_ms": percentile(raw_ms, 99),
                "ratio_p50": percentile(api_ms, 50) / percentile(raw_ms, 50),
            },
        }
    finally:
        if worker is not None:
            stop_process(worker, timeout=30)
        server.stop()
        with contextlib.suppress(BenchError, subprocess.TimeoutExpired):
            run_json([*raw, "delete"], env=env, timeout=60)


def api_roundtrip(browser: Browser, body: dict[str, Any]) -> float:
    """POST a task, poll it through the API until SUCCESS; milliseconds."""
    started = time.perf_counter()
    task = browser.expect("POST", "/api/v1/tasks/", body, ok=(202,))
    deadline = started + 60
    while True:
        task = browser.expect("GET", task["url"])
        if task["status"] == "SUCCESS":
            if task["result"] != 3:
                raise BenchError(f"demo.add ended with {task['result']!r}, not 3")
            return (time.perf_counter() - started) * 1000
        if task["status"] in ("FAILURE", "REVOKED") or time.perf_counter() > deadline:
            raise BenchError(f"task {task['id']} ended {task['status']}: {task}")
        time.sleep(POLL_INTERVAL)


# --- Machine facts ------------------------------------------------------------------------


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
    if reachable(SERVICES["postgres"]):
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_DSN) as connection:
                facts["postgresql"] = connection.execute("SHOW server_version").fetchone()[0]
    if reachable(SERVICES["redis"]):
        with contextlib.suppress(Exception):
            import redis

            facts["redis"] = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    if reachable(SERVICES["rabbitmq"]):
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


# --- Main ----------------------------------------------------------------------------------


def parse_args() -> Options:
    parser = argparse.ArgumentParser(
        description="The API beside a bare Django baseline, in one run (issue 7).",
        epilog="With any of --engines, --ops, --sections the run is partial and writes to "
        "bench/.work/ (the committed results are full runs).",
    )
    parser.add_argument("--engines", help="comma list of " + ", ".join(e.id for e in ENGINES))
    parser.add_argument("--ops", help="comma list of " + ", ".join(OPS))
    parser.add_argument(
        "--sections", help="comma list of sessions, queries, memory, tasks (default: all)"
    )
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("BENCH_SECONDS", 4)),
        help="duration of one measurement (default 4)",
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per server and op")
    parser.add_argument("--connections", type=int, default=2, help="wrk connections (default 2)")
    parser.add_argument("--output", type=Path, help="where results.md/json and ratios.png go")
    args = parser.parse_args()
    full = not (args.engines or args.ops or args.sections)
    engines = list(ENGINES)
    if args.engines:
        wanted = args.engines.split(",")
        unknown = set(wanted) - {e.id for e in ENGINES}
        if unknown:
            parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
        engines = [e for e in ENGINES if e.id in wanted]
    ops = tuple(args.ops.split(",")) if args.ops else OPS
    if set(ops) - set(OPS):
        parser.error(f"unknown ops: {', '.join(sorted(set(ops) - set(OPS)))}")
    sections = (
        set(args.sections.split(","))
        if args.sections
        else {"sessions", "queries", "memory", "tasks"}
    )
    if sections - {"sessions", "queries", "memory", "tasks"}:
        parser.error("sections are sessions, queries, memory, tasks")
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds and --seconds must be positive")
    return Options(
        engines=engines,
        ops=ops,
        sections=sections,
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        output=args.output or (BENCH if full else WORK),
        full=full,
    )


def preflight(options: Options) -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        raise BenchError(
            f"missing {', '.join(missing)}: on Debian, `apt-get install -y wrk` "
            "(taskset is in util-linux)."
        )
    if (os.cpu_count() or 1) < 2:
        log("warning: one CPU only, so server and load generator share it (no pinning)")


def main() -> int:
    options = parse_args()
    started = time.monotonic()
    results = Results(started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    # This process (and the helpers it starts without taskset) stays off the server core.
    with contextlib.suppress(OSError):
        if (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {LOAD_CORE})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        preflight(options)
        results.machine = machine_facts()
        results.options = {
            "rounds": options.rounds,
            "seconds": options.seconds,
            "warmup": options.warmup,
            "connections": options.connections,
            "full": options.full,
            "engines": [e.id for e in options.engines],
            "ops": list(options.ops),
            "sections": sorted(options.sections),
        }
        load = results.machine["load_average_at_start"]
        log(f"machine: {results.machine['cpus']} CPUs, load average {load}")
        usable = []
        for engine in options.engines:
            down = [name for name in engine.needs if not reachable(SERVICES[name])]
            if down:
                results.skipped[engine.id] = f"skipped: {', '.join(down)} not answering"
                log(f"{engine.label}: {results.skipped[engine.id]}")
            else:
                usable.append(engine)
        options.engines = usable
        log("preparing databases (fresh SQLite file and PostgreSQL database, migrated)")
        prepare_databases(any(e.database == "postgres" for e in usable))
        for engine in usable:
            bench_engine(engine, options, results)
        if "tasks" in options.sections:
            bench_tasks(options, results)
            if "tasks" in results.skipped:
                log(results.skipped["tasks"])
        results.seconds = round(time.monotonic() - started, 1)
        from bench.report import write_report

        paths = write_report(results, options.output)
        log(f"done in {results.seconds / 60:.1f} min: " + ", ".join(str(p) for p in paths))
        return 0
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        for child in list(_CHILDREN):
            stop_process(child)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
