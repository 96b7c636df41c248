"""The per-engine sections: requests/s of the API beside the bare Django baseline and
the store-only server (``sessions``, once per session size), and the SQL statements and
Redis commands of one request of each operation (``queries``, from bench/probe.py)."""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.common import BENCH, Options, Results, log
from bench.environment import Engine, engine_env
from bench.load import Browser, Sample, in_turn, wrk
from bench.probe import SEED_LABELS, SEEDS
from bench.processes import LOAD_CORE, Server, pinned, run_json
from bench.stats import against, summarize

OPS = ("get_key", "put_key", "get_session")
OP_LABELS = {"get_key": "GET key", "put_key": "PUT key", "get_session": "GET session"}
# The store-only server prices the store where it matters: reads and writes of a key.
OP_VARIANTS = {
    "get_key": ("django", "store", "api"),
    "put_key": ("django", "store", "api"),
    "get_session": ("django", "api"),
}


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


def session_entry(engine_id: str, seed: str) -> str:
    """The key of one engine and session size in ``results.sessions``."""
    return engine_id if seed == "small" else f"{engine_id}@{seed}"


def measure_sessions(
    engine: Engine,
    seed: str,
    options: Options,
    results: Results,
    servers: dict[str, Server],
    browsers: dict[str, Browser],
) -> None:
    """Every operation of ``options`` on the three servers, with sessions of ``seed``."""
    label = f"{engine.label}, {SEED_LABELS[seed]}"
    log(f"{label}: warm-up")
    for op in options.ops:
        for variant in OP_VARIANTS[op]:
            wrk(servers[variant].port, op, browsers[variant], options.warmup, options.connections)
    samples: dict[str, dict[str, list[Sample]]] = {
        op: {variant: [] for variant in OP_VARIANTS[op]} for op in options.ops
    }
    for round_no in range(options.rounds):
        for op in options.ops:
            for variant in in_turn(OP_VARIANTS[op], round_no):
                sample = wrk(
                    servers[variant].port,
                    op,
                    browsers[variant],
                    options.seconds,
                    options.connections,
                )
                samples[op][variant].append(sample)
            line = "  ".join(f"{v} {samples[op][v][-1].rps:7.0f}/s" for v in OP_VARIANTS[op])
            log(f"{label} round {round_no + 1}/{options.rounds} {OP_LABELS[op]}: {line}")
    table: dict[str, Any] = {}
    for op, by_variant in samples.items():
        row = {variant: summarize(runs) for variant, runs in by_variant.items()}
        for variant, runs in by_variant.items():
            if variant != "django":
                row[variant].update(against(runs, by_variant["django"]))
        table[op] = row
    results.sessions[session_entry(engine.id, seed)] = {
        "label": engine.label,
        "engine": engine.id,
        "seed": seed,
        "session": SEED_LABELS[seed],
        "session_bytes": len(json.dumps(SEEDS[seed], separators=(",", ":")).encode()),
        "ops": table,
    }
