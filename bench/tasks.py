"""The tasks section: ``POST /api/v1/tasks/`` throughput beside a raw ``apply_async``
loop (bench/raw_celery.py) publishing the same task to the same queue, beside a bare
Django view doing ``apply_async`` under the same middleware and gunicorn configuration
(bench/baseline_urls.py) and beside Flower's task API (``POST
/api/task/send-task/demo.add``, the peer a user would run instead), then
enqueue-to-SUCCESS latency through the API beside the raw ``apply_async().get()``, then
the outbox relay's throughput with a backlog (bench/relay.py).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.common import BENCH, LOGS, BenchError, Options, Results, log
from bench.environment import ENGINES, engine_env, up, variant_env
from bench.load import Browser, Sample, in_turn, wrk
from bench.processes import (
    LOAD_CORE,
    SERVER_CORE,
    HttpProcess,
    Server,
    pinned,
    run_json,
    spawn,
    stop,
)
from bench.stats import median, per_round_ratios, percentile
from tests.servers import celery_worker_command

POLL_INTERVAL = 0.002  # seconds between polls, for the API client and for get() alike
RELAY_BACKLOG = 10000  # messages waiting in the outbox when the relay starts
# How Flower runs (class Flower), as results.json records it.
FLOWER_SETUP = {
    "endpoint": "POST /api/task/send-task/demo.add",
    "celery_app": "api_project.celery",
    "result_backend": "disabled",
    "publisher_confirms": "the app's broker_transport_options (confirm_publish), as the API",
}


class Flower(HttpProcess):
    """Flower's web process on the service's own Celery app, pinned like the servers.

    The same app module as the API's web process and worker, with the same environment,
    so the same broker, default queue and ``broker_transport_options`` (publisher
    confirms: Flower publishes through the app's producer pool, whose connections carry
    them). One setting differs, the result backend: the service's is
    django-celery-results, which is Django's ORM, and Flower's handlers read the new
    task's state inside Tornado's event loop, where Django refuses to run a query
    (``SynchronousOnlyOperation``): each send-task would publish, then answer 500.
    Disabled, send-task publishes and answers with the task id alone.
    """

    def __init__(self, env: dict[str, str]) -> None:
        try:
            self.version = importlib.metadata.version("flower")
        except importlib.metadata.PackageNotFoundError as error:
            raise BenchError(
                "Flower is not installed: pip install -r requirements-dev.txt"
            ) from error

        def command(port: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "celery",
                "-A",
                FLOWER_SETUP["celery_app"],
                "--result-backend",
                FLOWER_SETUP["result_backend"],
                "flower",
                "--address=127.0.0.1",
                f"--port={port}",
            ]

        # Without it, Flower's API answers 401 to everyone unless basic auth or OAuth is
        # set up; the API under test is anonymous (a session cookie) too.
        env = {**env, "FLOWER_UNAUTHENTICATED_API": "true"}
        super().__init__("flower", env, command, health_path="/healthcheck")


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
    flower = Flower(env)
    worker = None

    def purge(*, published: int = 0, by: str = "") -> None:
        """Empty the queue, which must hold the ``published`` messages ``by`` confirmed.

        Each side is measured by what it says it published (wrk's answered requests,
        the raw loop's count): fewer messages on the queue would mean an answer
        without a publish behind it.
        """
        queued = run_json([*raw, "purge"], env=env, timeout=60).get("purged", 0)
        if queued < published:
            raise BenchError(
                f"{by} answered {published} enqueues, but only {queued} messages were in {queue}"
            )

    def loaded(port: int, mode: str, client: Browser, seconds: float) -> Sample:
        """One wrk run whose every answered request's message is queued."""
        sample = wrk(port, mode, client, seconds, options.connections)
        purge(published=sample.requests, by=f"{mode} on :{port}")
        return sample

    def api_owner() -> Browser:
        """A new anonymous owner for one run of the API: nothing runs the tasks of these
        rounds, so an owner's unfinished tasks pile up, and each enqueue counts them
        (up to TASKS_MAX_ACTIVE_PER_OWNER); a new owner a run starts every run from none,
        as the other sides start from an empty queue."""
        owner = Browser(server.base)
        owner.fetch_csrf()
        return owner

    try:
        server.wait_ready()
        django.wait_ready()
        flower.wait_ready()
        django_browser = Browser(django.base)
        django_browser.fetch_csrf()
        # Flower's API has no session or CSRF: wrk sends it neither cookie nor token.
        flower_client = Browser(flower.base)
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
        purge()

        log("tasks: enqueue throughput (no worker: every side only publishes)")
        sides: dict[str, tuple[int, str, Browser]] = {
            "api": (server.port, "post_task", browser),
            "django": (django.port, "post_task", django_browser),
            "flower": (flower.port, "flower_send_task", flower_client),
        }
        for port, mode, client in sides.values():
            loaded(port, mode, client, options.warmup)
        rates: dict[str, list[float]] = {side: [] for side in ("raw", *sides)}
        # The web process's CPU time per enqueue (the API's includes its fast-path
        # thread's publishing): steadier than requests/s on a shared machine.
        cpu_us: dict[str, list[float]] = {"api": [], "django": []}
        for round_no in range(options.rounds):
            for side in in_turn(tuple(rates), round_no):
                if side == "raw":
                    out = run_json(
                        [*raw, "publish", "--seconds", str(options.seconds)],
                        env=env,
                        timeout=options.seconds + 120,
                    )
                    rates["raw"].append(out["rate"])
                    purge(published=out["published"], by="the raw apply_async loop")
                else:
                    port, mode, client = sides[side]
                    sample = loaded(
                        port, mode, api_owner() if side == "api" else client, options.seconds
                    )
                    rates[side].append(sample.rps)
                    if side in cpu_us:
                        cpu_us[side].append(sample.cpu_us)
            log(
                f"tasks round {round_no + 1}: raw {rates['raw'][-1]:.0f}/s, API "
                f"{rates['api'][-1]:.0f}/s ({cpu_us['api'][-1]:.0f} µs CPU each), bare "
                f"Django view {rates['django'][-1]:.0f}/s ({cpu_us['django'][-1]:.0f} µs), "
                f"Flower {rates['flower'][-1]:.0f}/s"
            )
        api_rates, raw_rates = rates["api"], rates["raw"]
        django_rates, flower_rates = rates["django"], rates["flower"]
        # Stopped before the worker starts: neither takes part in the latency rounds.
        flower.stop()
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
        browser = api_owner()  # none of the throughput rounds' tasks are this owner's
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
                "flower_rps": median(flower_rates),
                "ratio_flower": median(per_round_ratios(api_rates, flower_rates)),
                "rounds_flower": [round(x, 1) for x in flower_rates],
                "rounds_ratio_flower": [
                    round(x, 3) for x in per_round_ratios(api_rates, flower_rates)
                ],
                "flower": {**FLOWER_SETUP, "version": flower.version},
                "api_cpu_us": median(cpu_us["api"]),
                "django_cpu_us": median(cpu_us["django"]),
                "rounds_api_cpu_us": [round(x, 1) for x in cpu_us["api"]],
                "rounds_django_cpu_us": [round(x, 1) for x in cpu_us["django"]],
                "fresh_owner_per_run": True,
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
        flower.stop()
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
