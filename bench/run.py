"""Benchmarks: the API beside a bare Django baseline, in one run (``make bench``).

What one run does:

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
   socket error fails the run. Each engine is measured at two session sizes, in turn
   on the same servers: the small seed (four small keys) and a ~48 KB one (the same
   keys plus twelve 4 KB values); ``signed_cookies`` at the small one only, since its
   session is the browser's 4 KB cookie.

2. **Requests' cost in queries**: ``bench/probe.py`` counts the SQL statements and
   Redis commands of one warm request of each operation, per engine and server kind.

3. **Memory**: RSS of the API's gunicorn worker (``db`` on SQLite) after warm-up and
   after 20,000 more requests (a mix of the three operations).

4. **Tasks** (RabbitMQ, django-celery-results on SQLite): ``POST /api/v1/tasks/``
   throughput (``demo.add``) beside a raw ``apply_async`` loop publishing the same task
   to the same queue with the same publisher-confirm setting (no worker running: every
   side only publishes), beside a bare Django view doing ``apply_async`` under the same
   middleware and gunicorn configuration, and beside Flower 2.0.1's task API (``POST
   /api/task/send-task/demo.add``, its own process on the servers' core, the service's
   Celery app with the result backend disabled); then, with one worker process,
   enqueue-to-SUCCESS latency polled through the API beside the raw
   ``apply_async().get()`` round trip; then the outbox relay's messages/s with a backlog
   of 10,000 (``bench/relay.py``).

5. **Serving models** (``bench/interface.py``): GET and PUT key on ``db`` (SQLite)
   and ``cache`` (Redis), the API under the ASGI worker (the default) beside
   gunicorn's sync worker (``GUNICORN_INTERFACE=wsgi``), same pinning, same rounds.

6. **Live events** (``bench/events.py``): 2,000 idle event streams on one web
   process (memory per stream, CPU with heartbeats only); 1,000 streams following 50
   tasks that report progress 10 times a second (latency from the report to the
   client); the same clients polling ``GET /api/v1/tasks/{id}/`` instead (CPU and
   staleness beside the streams').

Results go to ``bench/results.md``, ``bench/results.json`` and ``bench/ratios.png``
(a partial run, with ``--engines``/``--sections``/``--ops``/``--seeds``, writes to
``bench/.work/`` instead, so the committed results are always a full run). Logs of
every server are kept in ``bench/.work/logs/``.

Needs: the services (PostgreSQL, Redis, RabbitMQ on their usual local ports; an
engine or section whose service does not answer is reported as skipped), ``wrk``
(Debian: ``apt-get install -y wrk``), ``taskset``, ``flower`` for the tasks section and
``matplotlib`` for the chart (both in requirements-dev.txt). A full run takes about 28
minutes on 2 cores.

This file is the command line and the order of the sections; the parts live beside it
(bench/README.md, "What runs").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import signal
import sys
import time
from pathlib import Path

# Run as a script, so the repository root (for ``bench.*`` and ``tests.*``) comes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BENCH, WORK, BenchError, Options, Results, log
from bench.environment import (
    ENGINES,
    SERVING_MODEL,
    VARIANTS,
    Engine,
    engine_env,
    machine_facts,
    prepare_databases,
    up,
    variant_env,
)
from bench.events import bench_events
from bench.interface import bench_interface
from bench.load import Browser
from bench.memory import measure_memory
from bench.probe import SEEDS
from bench.processes import LOAD_CORE, Server, stop_all
from bench.sessions import OP_VARIANTS, OPS, count_queries, measure_sessions
from bench.tasks import bench_tasks

SECTIONS = ("sessions", "queries", "memory", "tasks", "interface", "events")


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
    seeds = [seed for seed in options.seeds if seed in engine.seeds]
    try:
        for server in servers.values():
            server.wait_ready()
        # One browser per server and session size, each with its own seeded session.
        browsers: dict[str, dict[str, Browser]] = {}
        for seed in seeds or ["small"]:
            browsers[seed] = {}
            for variant, server in servers.items():
                browsers[seed][variant] = Browser(server.base)
                browsers[seed][variant].start_session(seed)
        if "sessions" in options.sections:
            for seed in seeds:
                measure_sessions(engine, seed, options, results, servers, browsers[seed])
        if "memory" in options.sections and engine.id == options.engines[0].id:
            first = next(iter(browsers.values()))
            measure_memory(engine, options, results, servers["api"], first["api"])
    finally:
        for server in servers.values():
            server.stop()


def parse_args() -> Options:
    parser = argparse.ArgumentParser(
        description="The API beside a bare Django baseline, in one run.",
        epilog="With any of --engines, --ops, --seeds, --sections the run is partial and "
        "writes to bench/.work/ (the committed results are full runs).",
    )
    parser.add_argument("--engines", help="comma list of " + ", ".join(e.id for e in ENGINES))
    parser.add_argument("--ops", help="comma list of " + ", ".join(OPS))
    parser.add_argument(
        "--seeds",
        help="comma list of session sizes: " + ", ".join(SEEDS) + " (default: both; "
        "signed_cookies is measured at small only)",
    )
    parser.add_argument(
        "--sections",
        help="comma list of " + ", ".join(SECTIONS) + " (default: all)",
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
    full = not (args.engines or args.ops or args.seeds or args.sections)
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
    seeds = tuple(args.seeds.split(",")) if args.seeds else tuple(SEEDS)
    if set(seeds) - set(SEEDS):
        parser.error(f"unknown seeds: {', '.join(sorted(set(seeds) - set(SEEDS)))}")
    sections = set(args.sections.split(",")) if args.sections else set(SECTIONS)
    if sections - set(SECTIONS):
        parser.error("sections are " + ", ".join(SECTIONS))
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds and --seconds must be positive")
    return Options(
        engines=engines,
        ops=ops,
        seeds=seeds,
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
            "seeds": list(options.seeds),
            "sections": sorted(options.sections),
            "serving_model": SERVING_MODEL,
        }
        load = results.machine["load_average_at_start"]
        log(f"machine: {results.machine['cpus']} CPUs, load average {load}")
        usable = []
        for engine in options.engines:
            down = [name for name in engine.needs if not up(name)]
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
        if "interface" in options.sections:
            bench_interface(options, results)
        if "events" in options.sections:
            bench_events(results)
            if "events" in results.skipped:
                log(results.skipped["events"])
        results.seconds = round(time.monotonic() - started, 1)
        from bench.report import write_report

        paths = write_report(results, options.output)
        log(f"done in {results.seconds / 60:.1f} min: " + ", ".join(str(p) for p in paths))
        return 0
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
