"""The benchmark's child processes: CPU pinning, a registry that stops every child when
the run ends however it ends, one-shot helpers that answer in JSON, and the gunicorn
servers under load (with their worker's CPU time).

Starting, health-checking and stopping a process are the tests' helpers
(tests/servers.py), so both start gunicorn and Celery the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from bench.common import LOGS, ROOT, BenchError
from tests import servers

SERVER_CORE = 0  # every gunicorn, the raw publish loop
LOAD_CORE = 1  # wrk, this script, the Celery worker

_CHILDREN: list[subprocess.Popen] = []


def pinned(core: int) -> list[str]:
    """The taskset prefix that runs a command on ``core`` (none on a 1-CPU machine)."""
    if os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
        return ["taskset", "-c", str(core)]
    return []


def spawn(command: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a long-running child; it is stopped when the run ends, however it ends."""
    process = servers.start_process(command, env=env, log=log, append=True)
    _CHILDREN.append(process)
    return process


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (gunicorn and Celery shut down gracefully), then SIGKILL."""
    servers.stop_process(process, grace=timeout)
    with contextlib.suppress(ValueError):
        _CHILDREN.remove(process)


def stop_all() -> None:
    """Whatever is still running when the run ends (an error, a signal)."""
    for child in list(_CHILDREN):
        stop(child)


def run_json(command: list[str], *, env: dict[str, str], timeout: float) -> Any:
    """Run a helper that prints one JSON object last; fail loudly on any error."""
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise BenchError(
            f"{' '.join(command[:6])} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


class HttpProcess:
    """One HTTP server process on a free port, pinned to the server core, logging to
    ``LOGS``; ready once ``health_path`` answers 200."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        command: Callable[[int], list[str]],
        *,
        health_path: str = "/healthz",
    ) -> None:
        self.name = name
        self.port = servers.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = LOGS / f"{name}-{self.port}.log"
        self.health_path = health_path
        self.process = spawn([*pinned(SERVER_CORE), *command(self.port)], env=env, log=self.log)

    def wait_ready(self, timeout: float = 60) -> None:
        try:
            servers.wait_until_healthy(
                self.process, self.base, timeout=timeout, path=self.health_path, name=self.name
            )
        except RuntimeError as error:
            raise BenchError(f"{self.name} did not start; see {self.log}") from error

    def stop(self) -> None:
        stop(self.process)


class Server(HttpProcess):
    """One gunicorn (the service's config, one worker) pinned to the server core."""

    # bench.load.wrk finds the server it loads here, to read its worker's CPU time.
    by_port: ClassVar[dict[int, Server]] = {}

    def __init__(self, name: str, env: dict[str, str]) -> None:
        # No --workers or --timeout: GUNICORN_* in the environment (bench/environment.py)
        # and the configuration decide, as they would in production.
        super().__init__(name, env, servers.gunicorn_command)
        Server.by_port[self.port] = self
        self._worker: int | None = None

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        # taskset execs gunicorn, so the pid we started is gunicorn's master.
        pids = children.read_text().split() if children.exists() else []
        if len(pids) != 1:
            raise BenchError(f"{self.name}: expected one gunicorn worker, found {pids}")
        return int(pids[0])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the worker so far."""
        if self._worker is None:
            self._worker = self.worker_pid()
        fields = Path(f"/proc/{self._worker}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of proc(5); the split drops the first 2.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        Server.by_port.pop(self.port, None)
        super().stop()
