"""What every part of ``bench/run.py`` shares: where a run writes, how it fails, what it
was asked to do and what it found, and its progress lines."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
LOGS = WORK / "logs"


class BenchError(Exception):
    """The run cannot go on or produced a wrong answer: stop, loudly."""


@dataclass(frozen=True)
class Engine:
    """One engine/storage combination of the sessions table."""

    id: str
    label: str
    session_engine: str
    database: str  # "sqlite" or "postgres"
    needs: tuple[str, ...] = ()
    # The session sizes measured (bench/probe.py SEEDS): a cookie engine only the small
    # one, since its whole session must fit in a browser cookie (4 KB).
    seeds: tuple[str, ...] = ("small", "48k")


@dataclass
class Options:
    engines: list[Engine]
    ops: tuple[str, ...]
    seeds: tuple[str, ...]
    sections: set[str]
    rounds: int
    seconds: float
    warmup: float
    connections: int
    output: Path
    full: bool


@dataclass
class Results:
    """Everything measured; bench/report.py writes it out as results.md/json."""

    started: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, Any] = field(default_factory=dict)
    queries: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)
    interface: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
