"""The tasks section: ``POST /api/v1/tasks/`` throughput beside a raw ``apply_async``
loop (bench/raw_celery.py) publishing the same task to the same queue and beside a bare
Django view doing ``apply_async`` under the same middleware and gunicorn configuration
(bench/baseline_urls.py), then enqueue-to-SUCCESS latency through the API beside the
raw ``apply_async().get()``, then the outbox relay's throughput with a backlog
(bench/relay.py).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.common import BENCH, LOGS, BenchError, Options, Results, log
from bench.environment import ENGINES, engine_env, up, variant_env
from bench.load import Browser, in_turn, wrk
from bench.processes import LOAD_CORE, SERVER_CORE, Server, pinned, run_json, spawn, stop
from bench.stats import median, per_round_ratios, percentile
from tests.servers import celery_worker_command

POLL_INTERVAL = 0.002  # seconds between polls, for the API client and for get() alike
RELAY_BACKLOG = 10000  # messages waiting in the outbox when the relay starts


def bench_tasks(options: Options, results: Results) -> None:
    """Enqueue throughput and enqueue-to-SUCCESS latency, API beside raw Celery."""
    if not up("rabbitmq"):
        results.skipped["tasks"] = "skipped: RabbitMQ is not answering on 127.0.0.1:5672"
        return
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    env = {
        **engine_env(ENGINES[0]),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # The per-owner enqueue limit (60/min by default) would stop a load test at
        # once; a rate this high keeps the throttle's work in the path, never its 429.
        # Likewise the address rate, and the unfinished tasks per owner (nothing runs
        # the tasks of the throughput rounds, so all of them stay unfinished).
        "TASKS_ENQUEUE_RATE": "1000000/s",
        "TASKS_ENQUEUE_ADDRESS_RATE": "1000000/s",
        "TASKS_MAX_ACTIVE_PER_OWNER": "100000000",
    }
    raw = [*pinned(SERVER_CORE), sys.executable, str(BENCH / "raw_celery.py")]
    server = Server("tasks-api", env)
    django = Server("tasks-django", variant_env(env, "django"))
    worker = None
    try:
        server.wait_ready()
        django.wait_ready()
        django_browser = Browser(django.base)
        django_browser.fetch_csrf()
        browser = Browser(server.base)
        browser.fetch_csrf()
        body = {"name": "demo.add", "args": {"a": 1, "b": 2}}
        status, content, _ = browser.request("POST", "/api/v1/tasks/", body)
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
        wrk(django.port, "post_task", django_browser, options.warmup, options.connections)
        run_json([*raw, "purge"], env=env, timeout=60)
        api_rates, raw_rates, django_rates = [], [], []
        for round_no in range(options.rounds):
            for side in in_turn(("raw", "api", "django"), round_no):
                if side == "django":
                    django_rates.append(
                        wrk(
                            django.port,
                            "post_task",
                            django_browser,
                            options.seconds,
                            options.connections,
                        ).rps
                    )
                elif side == "raw":
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
            log(
                f"tasks round {round_no + 1}: raw {raw_rates[-1]:.0f}/s, API "
                f"{api_rates[-1]:.0f}/s, bare Django view {django_rates[-1]:.0f}/s"
            )
        django.stop()

        log("tasks: enqueue-to-SUCCESS latency, one worker process")
        # bench.celery_app: the service's tasks plus bench.add, the raw round trip's.
        # Warnings only, so no log line per task is part of what is timed.
        command = celery_worker_command(
            queue=queue,
            name=queue,
            app="bench.celery_app",
            concurrency=1,
            loglevel="warning",
            extra=("--pool", "prefork", "--without-heartbeat"),
        )
        worker = spawn([*pinned(LOAD_CORE), *command], env=env, log=LOGS / f"worker-{queue}.log")
        count = 100
        api_ms: list[float] = []
        raw_ms: list[float] = []
        for _ in range(5):  # warm: the worker's first tasks, connections on both sides
            api_roundtrip(browser, body)
        for round_no in range(options.rounds):
            for side in in_turn(("raw", "api"), round_no):
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
        stop(worker, timeout=30)
        worker = None
        run_json([*raw, "purge"], env=env, timeout=60)
        log(f"tasks: the outbox relay with a backlog of {RELAY_BACKLOG} (no worker)")
        relay = run_json(
            [
                sys.executable,
                str(BENCH / "relay.py"),
                "--count",
                str(RELAY_BACKLOG),
                "--log",
                str(LOGS / f"relay-{queue}.log"),
                "--pin",
                " ".join(pinned(SERVER_CORE)),
            ],
            env=env,
            timeout=900,
        )
        log(f"tasks: relay {relay['rate']:.0f} messages/s ({relay['seconds']:.1f} s)")
        results.tasks = {
            "queue": queue,
            "enqueue": {
                "api_rps": median(api_rates),
                "raw_rps": median(raw_rates),
                "ratio": median(per_round_ratios(api_rates, raw_rates)),
                "rounds_api": [round(x, 1) for x in api_rates],
                "rounds_raw": [round(x, 1) for x in raw_rates],
                "django_rps": median(django_rates),
                "ratio_django": median(per_round_ratios(api_rates, django_rates)),
                "rounds_django": [round(x, 1) for x in django_rates],
            },
            "relay": {
                "backlog": relay["messages"],
                "seconds": relay["seconds"],
                "messages_per_second": relay["rate"],
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
            stop(worker, timeout=30)
        server.stop()
        django.stop()
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
