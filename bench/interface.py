"""The interface section: the sync API under the two serving models, in one run.

The same API server twice, side by side on the server core: gunicorn with the
service's ASGI worker (the default: uvicorn's event loop, every request but the
streams through Django's WSGI handler in a thread) and with gunicorn's own sync worker
(``GUNICORN_INTERFACE=wsgi``). wrk sends each GET key and PUT key in turn, rounds
alternating the order, on ``INTERFACE_ENGINES`` only (one database engine, one Redis
engine: the difference is the serving layer, not the store). ASGI ÷ sync is the median
of the per-round ratios of requests/s, beside the same ratio in worker CPU per request.
"""

from __future__ import annotations

from typing import Any

from bench.common import Options, Results, log
from bench.environment import engine_env, variant_env
from bench.load import Browser, Sample, in_turn, wrk
from bench.processes import Server
from bench.sessions import OP_LABELS
from bench.stats import against, summarize

INTERFACE_ENGINES = ("db-sqlite", "cache")
INTERFACE_OPS = ("get_key", "put_key")
INTERFACES = ("wsgi", "asgi")  # wsgi is the baseline of the ratio


def bench_interface(options: Options, results: Results) -> None:
    """GET and PUT key under both serving models, per engine of INTERFACE_ENGINES."""
    # run.py has already left out the engines whose service is down.
    for engine in options.engines:
        if engine.id not in INTERFACE_ENGINES:
            continue
        env = variant_env(engine_env(engine), "api")
        servers = {
            kind: Server(f"{engine.id}-{kind}", {**env, "GUNICORN_INTERFACE": kind})
            for kind in INTERFACES
        }
        try:
            for server in servers.values():
                server.wait_ready()
            browsers = {kind: Browser(server.base) for kind, server in servers.items()}
            for browser in browsers.values():
                browser.start_session("small")
            results.interface[engine.id] = {
                "label": engine.label,
                "ops": measure_interfaces(engine.label, options, servers, browsers),
            }
        finally:
            for server in servers.values():
                server.stop()


def measure_interfaces(
    label: str, options: Options, servers: dict[str, Server], browsers: dict[str, Browser]
) -> dict[str, Any]:
    log(f"interface, {label}: warm-up")
    for op in INTERFACE_OPS:
        for kind in INTERFACES:
            wrk(servers[kind].port, op, browsers[kind], options.warmup, options.connections)
    samples: dict[str, dict[str, list[Sample]]] = {
        op: {kind: [] for kind in INTERFACES} for op in INTERFACE_OPS
    }
    for round_no in range(options.rounds):
        for op in INTERFACE_OPS:
            for kind in in_turn(INTERFACES, round_no):
                samples[op][kind].append(
                    wrk(
                        servers[kind].port, op, browsers[kind], options.seconds, options.connections
                    )
                )
            line = "  ".join(f"{k} {samples[op][k][-1].rps:7.0f}/s" for k in INTERFACES)
            log(f"interface, {label} round {round_no + 1}/{options.rounds} {OP_LABELS[op]}: {line}")
    table = {}
    for op, by_kind in samples.items():
        table[op] = {kind: summarize(runs) for kind, runs in by_kind.items()}
        table[op]["asgi"].update(against(by_kind["asgi"], by_kind["wsgi"]))
    return table
