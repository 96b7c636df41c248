"""The load: a browser that opens and seeds a session, and wrk runs (bench/wrk.lua)
that replay its cookies and CSRF token, checked and turned into a ``Sample``.

The browser is the tests' HTTP client (tests/servers.py ``HttpSession``) with what the
benchmark adds: an ``Accept`` header like wrk's, and answers checked as it goes.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any, ClassVar

from bench.common import BENCH, BenchError
from bench.probe import SEEDS  # what each client holds before the load: what probe.py measures
from bench.processes import LOAD_CORE, Server, pinned
from tests.servers import HttpSession

LUA = BENCH / "wrk.lua"


def in_turn(servers: tuple[str, ...], round_no: int) -> tuple[str, ...]:
    """The order in which round ``round_no`` loads ``servers``.

    Reversed every other round, so a drift in the machine's load does not always
    favour the same server.
    """
    return servers if round_no % 2 == 0 else servers[::-1]


class Browser(HttpSession):
    """One user's browser, whose session wrk then replays."""

    # wrk.lua sends the same Accept, so the browser's requests (the task round trips
    # are timed) take the same content-negotiation path as the load does.
    headers: ClassVar[dict[str, str]] = {"Accept": "application/json", **HttpSession.headers}

    def expect(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> Any:
        status, content, _ = self.request(method, path, body)
        if status not in ok:
            raise BenchError(
                f"{method} {path} on :{self.port} answered {status}: {str(content)[:300]}"
            )
        return content

    def fetch_csrf(self) -> str:
        """The CSRF cookie and token; a wrong answer stops the run (not an assert)."""
        self.csrf = self.expect("GET", "/api/v1/auth/csrf/")["csrf_token"]
        return self.csrf

    def start_session(self, seed: str = "small") -> None:
        """CSRF cookie and token, then the seeded keys; checks the API answers right."""
        self.fetch_csrf()
        values = SEEDS[seed]
        for key, value in values.items():
            self.expect("PUT", f"/api/v1/session/keys/{key}/", {"value": value}, ok=(200, 201))
        got = self.expect("GET", "/api/v1/session/keys/profile/")
        if got != {"key": "profile", "value": values["profile"]}:
            raise BenchError(f"GET key on :{self.port} returned {got}")


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
        browser.csrf or "",
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
