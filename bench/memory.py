"""The memory section: the API worker's resident set size after warm-up and after
MEMORY_REQUESTS more requests (a mix of the three operations), to show it does not grow.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from bench.common import Options, Results, log
from bench.environment import Engine
from bench.load import Browser, wrk
from bench.processes import Server

MEMORY_REQUESTS = 20_000  # the targets themselves are in bench/report.py


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return kib / 1024


def measure_memory(
    engine: Engine, options: Options, results: Results, server: Server, browser: Browser
) -> None:
    """RSS of the API worker after warm-up and after MEMORY_REQUESTS more requests."""
    log(f"memory: warm-up of the API worker ({engine.label})")
    wrk(server.port, "mix", browser, max(options.warmup, 3), options.connections)
    before = rss_mb(server.worker_pid())
    served = 0
    started = time.monotonic()
    while served < MEMORY_REQUESTS:
        served += wrk(server.port, "mix", browser, 5, options.connections).requests
    after = rss_mb(server.worker_pid())
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
