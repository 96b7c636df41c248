"""The figures a run reports, from its rounds: medians, nearest-rank percentiles, and
ratios taken per round (each side measured beside the other) before their median.

Per-round ratios, rather than a ratio of medians, because the machine's load drifts
over a run: two servers measured in the same round saw the same machine.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.load import Sample


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def per_round_ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """``numerators[i] / denominators[i]`` for each round ``i``."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def summarize(runs: list[Sample]) -> dict[str, Any]:
    """One server's row for one operation: medians over its rounds."""
    return {
        "rps": median([s.rps for s in runs]),
        "p50_ms": median([s.p50_ms for s in runs]),
        "p99_ms": median([s.p99_ms for s in runs]),
        "cpu_us": median([s.cpu_us for s in runs]),
        "requests": sum(s.requests for s in runs),
        "rounds_rps": [round(s.rps, 1) for s in runs],
    }


def against(runs: list[Sample], baseline: list[Sample]) -> dict[str, Any]:
    """A server beside the baseline, round by round: requests/s and CPU per request."""
    ratios = per_round_ratios([s.rps for s in runs], [s.rps for s in baseline])
    return {
        "ratio": median(ratios),
        "rounds_ratio": [round(r, 3) for r in ratios],
        # The same comparison in CPU time per request (baseline ÷ this server).
        "cpu_ratio": median(
            per_round_ratios([s.cpu_us for s in baseline], [s.cpu_us for s in runs])
        ),
    }
