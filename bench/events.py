"""The events section: live event streams (``GET /api/v1/events/``) on ONE web process.

1. **Idle streams**: ``IDLE_STREAMS`` streams open on one ASGI worker, each with its
   own anonymous session (a stream's first request without a cookie gets one, so the
   per-session limit is not touched). The worker's RSS with none open (after a
   warm-up of a few streams opened and closed) and with all open gives the memory per
   stream; its CPU over ``IDLE_SECONDS`` with every stream idle (heartbeats only, a
   comment line per stream every ``EVENTS_HEARTBEAT_SECONDS``) the cost of holding them.
2. **Delivery**: ``LIVE_STREAMS`` streams follow ``LIVE_TASKS`` tasks (one task per
   anonymous session, ``LIVE_STREAMS / LIVE_TASKS`` streams per session, as tabs of
   one browser: ``EVENTS_MAX_STREAMS_PER_SESSION`` is raised to that for this server),
   every task reporting progress ``REPORT_RATE`` times a second
   (``bench/events_publisher.py``, the worker's own ``report_progress``). Latency is
   from the report (``time.time()`` in its message) to the event's arrival at the
   client (``bench/events_client.py``), both on this machine's clock.
3. **Polling instead**: the same clients, each polling its task
   (``GET /api/v1/tasks/{id}/``) once every ``POLL_INTERVAL`` seconds while the tasks
   report as before: the worker's CPU beside the streams', and the age of what the
   clients see.

The server is pinned to the server core; the client, the publisher and this script to
the load core. Every client answer is checked: a non-200, a stream that ends or an
``error`` event fails the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.common import BENCH, LOGS, WORK, BenchError, Results, log
from bench.environment import ENGINES, engine_env, up
from bench.load import Browser
from bench.memory import rss_mb
from bench.processes import LOAD_CORE, Server, pinned, run_json

IDLE_STREAMS = 2000
IDLE_SECONDS = 60
WARMUP_STREAMS = 50
LIVE_STREAMS = 1000
LIVE_TASKS = 50
REPORT_RATE = 10.0  # progress reports per task per second
LIVE_SECONDS = 30  # each of the delivery and polling windows
SETTLE_SECONDS = 5  # load running before a window starts
POLL_INTERVAL = 1.0
# Figures for the report (bench/report.py), not assertions.
TARGETS = {
    "rss_per_stream_kb": 50,
    "idle_cpu_percent": 5,
    "latency_p50_ms": 20,
    "latency_p99_ms": 100,
}


class EventClients:
    """``bench/events_client.py`` in its own process, driven over stdin/stdout."""

    def __init__(self, mode: str, port: int, clients: list[dict[str, Any]], name: str) -> None:
        path = WORK / f"events-{name}.json"
        path.write_text(json.dumps(clients))
        self.process = subprocess.Popen(
            [
                *pinned(LOAD_CORE),
                sys.executable,
                str(BENCH / "events_client.py"),
                mode,
                "--port",
                str(port),
                "--clients",
                str(path),
                "--interval",
                str(POLL_INTERVAL),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(LOGS / f"events-client-{name}.log", "wb"),  # noqa: SIM115
            text=True,
        )

    def line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        text = self.process.stdout.readline() if ready else ""
        if not text:
            self.process.kill()
            raise BenchError(f"the event client stopped or hung (exit {self.process.poll()})")
        return text.strip()

    def opened(self, expected: int) -> str:
        answer = self.line(timeout=600)
        if not answer.startswith(f"opened {expected} ") or not answer.endswith("problems 0"):
            self.send("stop")
            raise BenchError(f"event client: {answer}; {self.line(60)[:2000]}")
        return answer

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def finish(self) -> dict[str, Any]:
        self.send("stop")
        summary = json.loads(self.line(timeout=120))
        self.process.wait(timeout=60)
        if summary["problems"] or summary["open_at_stop"] != summary["clients"]:
            raise BenchError(
                f"event client: {summary['open_at_stop']} of {summary['clients']} open at "
                f"the end; problems: {summary['problems']}"
            )
        return summary


def events_env(queue: str, *, streams_per_session: int | None = None) -> dict[str, str]:
    """The service on SQLite and Redis, its tasks queued on a queue nothing consumes."""
    env = {
        **engine_env(ENGINES[0]),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TASKS_ENQUEUE_ADDRESS_RATE": "1000000/s",  # 50 enqueues from one address
    }
    if streams_per_session is not None:
        env["EVENTS_MAX_STREAMS_PER_SESSION"] = str(streams_per_session)
    return env


def cpu_percent(server: Server, seconds: float) -> float:
    """The worker's CPU (user + system, all its threads) over the next ``seconds``."""
    before, started = server.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return (server.cpu_seconds() - before) / (time.monotonic() - started) * 100


def measure_idle(env: dict[str, str]) -> dict[str, Any]:
    server = Server("events-idle", env)
    try:
        server.wait_ready()
        log(f"events: warm-up, {WARMUP_STREAMS} streams opened and closed")
        warm = EventClients("idle", server.port, [{}] * WARMUP_STREAMS, "warmup")
        warm.opened(WARMUP_STREAMS)
        warm.finish()
        time.sleep(2)
        pid = server.worker_pid()
        rss_before = rss_mb(pid)
        log(f"events: opening {IDLE_STREAMS} streams, each its own anonymous session")
        clients = EventClients("idle", server.port, [{}] * IDLE_STREAMS, "idle")
        opened = clients.opened(IDLE_STREAMS)
        log(f"events: {opened}")
        time.sleep(SETTLE_SECONDS)
        rss_open = rss_mb(pid)
        clients.send("measure")
        log(f"events: {IDLE_STREAMS} idle streams, CPU over {IDLE_SECONDS} s")
        cpu = cpu_percent(server, IDLE_SECONDS)
        rss_after = rss_mb(pid)
        summary = clients.finish()
    finally:
        server.stop()
    per_stream_kb = (rss_open - rss_before) * 1024 / IDLE_STREAMS
    log(
        f"events: RSS {rss_before:.1f} -> {rss_open:.1f} MB ({per_stream_kb:.1f} KB a stream), "
        f"idle CPU {cpu:.2f} % of a core"
    )
    return {
        "streams": IDLE_STREAMS,
        "opening": opened,
        "rss_before_mb": round(rss_before, 2),
        "rss_open_mb": round(rss_open, 2),
        "rss_after_idle_mb": round(rss_after, 2),
        "rss_per_stream_kb": round(per_stream_kb, 2),
        "idle_seconds": summary["seconds"],
        "idle_cpu_percent": round(cpu, 2),
        "heartbeats": summary["counts"]["heartbeats"],
    }


def start_live_sessions(server: Server) -> list[tuple[str, str]]:
    """``LIVE_TASKS`` anonymous sessions, each with one queued task: (cookie, task id)."""
    owners = []
    for _ in range(LIVE_TASKS):
        browser = Browser(server.base)
        browser.fetch_csrf()
        task = browser.expect(
            "POST", "/api/v1/tasks/", {"name": "demo.sleep", "args": {"seconds": 600}}, ok=(202,)
        )
        owners.append((browser.cookie_header(), task["id"]))
    return owners


def measure_live(queue: str) -> dict[str, Any]:
    per_session = LIVE_STREAMS // LIVE_TASKS
    env = events_env(queue, streams_per_session=per_session)
    server = Server("events-live", env)
    tasks_file = WORK / "events-tasks.json"
    try:
        server.wait_ready()
        owners = start_live_sessions(server)
        tasks_file.write_text(json.dumps([task for _, task in owners]))
        clients = [
            {"cookie": cookie, "task": task} for cookie, task in owners for _ in range(per_session)
        ]
        publisher_command = [
            *pinned(LOAD_CORE),
            sys.executable,
            str(BENCH / "events_publisher.py"),
            "--tasks",
            str(tasks_file),
            "--rate",
            str(REPORT_RATE),
        ]
        result: dict[str, Any] = {
            "streams": LIVE_STREAMS,
            "tasks": LIVE_TASKS,
            "streams_per_session": per_session,
            "report_rate": REPORT_RATE,
            "seconds": LIVE_SECONDS,
            "poll_interval": POLL_INTERVAL,
        }
        for mode in ("stream", "poll"):
            log(f"events: {LIVE_STREAMS} clients ({mode}), {LIVE_TASKS} tasks reporting")
            # Streams without ?task=: each follows its owner's channel, one task's events.
            wanted = [{**c, "task": None} for c in clients] if mode == "stream" else clients
            load = EventClients(mode, server.port, wanted, mode)
            load.opened(LIVE_STREAMS)
            publisher = subprocess.Popen(
                publisher_command,
                env=env,
                stdout=subprocess.PIPE,
                stderr=open(LOGS / f"events-publisher-{mode}.log", "wb"),  # noqa: SIM115
                text=True,
            )
            try:
                time.sleep(SETTLE_SECONDS)
                load.send("measure")
                cpu = cpu_percent(server, LIVE_SECONDS)
                summary = load.finish()
            finally:
                publisher.terminate()
                out, _ = publisher.communicate(timeout=60)
            if publisher.returncode != 0:
                raise BenchError(f"events publisher failed; see {LOGS}/events-publisher-{mode}.log")
            summary["cpu_percent"] = round(cpu, 2)
            summary["publisher"] = json.loads(out.strip().splitlines()[-1])
            result[mode] = summary
            figure = summary["latency_ms"] if mode == "stream" else summary["age_at_arrival_ms"]
            p50, p99 = (figure["p50"], figure["p99"]) if figure else ("-", "-")
            log(
                f"events ({mode}): CPU {cpu:.1f} % of a core; "
                f"{'latency' if mode == 'stream' else 'age at arrival'} p50 {p50} ms, p99 {p99} ms"
            )
        result["cpu_ratio_poll_to_stream"] = round(
            result["poll"]["cpu_percent"] / result["stream"]["cpu_percent"], 2
        )
        return result
    finally:
        server.stop()


def bench_events(results: Results) -> None:
    """Idle streams' memory and CPU, delivery latency, and polling beside streaming."""
    down = [name for name in ("redis", "rabbitmq") if not up(name)]
    if down:
        results.skipped["events"] = f"skipped: {', '.join(down)} not answering"
        return
    # The server holds a descriptor per stream: the soft limit up to the hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < IDLE_STREAMS + 100:
        raise BenchError(f"ulimit -n is {hard}: {IDLE_STREAMS} streams need more")
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    raw = [*pinned(LOAD_CORE), sys.executable, str(BENCH / "raw_celery.py")]
    try:
        results.events = {
            "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "idle": measure_idle(events_env(queue)),
            "live": measure_live(queue),
            "targets": TARGETS,
        }
    finally:
        with contextlib.suppress(BenchError, subprocess.TimeoutExpired):
            run_json([*raw, "delete"], env=events_env(queue), timeout=60)
