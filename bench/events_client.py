"""The client side of the events section (``bench/events.py``): thousands of HTTP
connections from one process, on raw asyncio sockets (uvloop), pinned to the load core.

Three modes, each given a JSON file of clients (``[{"cookie": ..., "task": ...}]``;
an empty cookie means the client has none, so its stream's first request gets a new
anonymous session)::

    python bench/events_client.py idle    --port P --clients FILE
    python bench/events_client.py stream  --port P --clients FILE
    python bench/events_client.py poll    --port P --clients FILE --interval 1

``idle`` and ``stream`` open one ``GET /api/v1/events/`` per client; ``poll`` sends
``GET /api/v1/tasks/{task}/`` per client every ``--interval`` seconds over a keep-alive
connection, each client at a random phase. The process talks to ``bench/events.py`` by
lines: it prints ``opened N`` once every connection is up, then obeys ``measure``
(start counting from now) and ``stop`` (print the summary as one JSON line, exit) on
stdin.

What a client sees is dated with ``time.time()``, the clock the progress reports were
stamped with (same machine): a task event's latency is its arrival minus the stamp
in its ``progress.message``; ``publish_ms`` is its arrival minus the Redis time of the
event's id (the owner part of the cursor, ``<ms>-<seq>``, from the ``XADD``). Every
client's *shown age* (now minus the stamp of the newest state it has) is sampled at
random moments, ~10 times a second, for the staleness figures.

Any answer that is not a 200 (or a stream that ends, or an ``error``/``session``
event) is counted and reported; ``bench/events.py`` fails the run on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import percentile

STAMP = re.compile(rb'"message":"([0-9]+\.[0-9]+)"')
OPEN_CONCURRENCY = 50  # connections being opened at once
SAMPLE_SECONDS = 0.1  # mean interval between shown-age samples, per client


class Client:
    """One connection's state and what it has seen."""

    def __init__(self, number: int, cookie: str, task: str | None) -> None:
        self.number = number
        self.cookie = cookie
        self.task = task
        self.stamp: float | None = None  # of the newest state this client has
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.measuring = False
        self.started = 0.0
        self.latency_ms: list[float] = []
        self.publish_ms: list[float] = []
        self.age_ms: list[float] = []  # at arrival (poll mode: of the answer's state)
        self.shown_ms: list[float] = []  # sampled shown age
        self.response_ms: list[float] = []  # poll mode: request to answer
        self.counts = {"events": 0, "heartbeats": 0, "polls": 0, "late_polls": 0}
        self.problems: list[str] = []
        self.open = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)
        else:
            self.problems[-1] = f"... and more (last: {text})"

    def request(self, client: Client, path: str, accept: str) -> bytes:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.args.port}",
            f"Accept: {accept}",
        ]
        if client.cookie:
            lines.append(f"Cookie: {client.cookie}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def connect(self, client: Client) -> None:
        client.reader, client.writer = await asyncio.open_connection("127.0.0.1", self.args.port)

    async def head(self, client: Client) -> tuple[int, dict[bytes, bytes]]:
        assert client.reader is not None
        raw = await client.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = raw.split(b"\r\n")
        headers = {}
        for line in header_lines:
            if b":" in line:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
        return int(status_line.split(b" ", 2)[1]), headers

    # --- streams ---------------------------------------------------------------

    async def open_stream(self, client: Client, gate: asyncio.Semaphore) -> asyncio.Task | None:
        async with gate:
            path = "/api/v1/events/" + (f"?task={client.task}" if client.task else "")
            try:
                await self.connect(client)
                assert client.writer is not None
                client.writer.write(self.request(client, path, "text/event-stream"))
                status, headers = await self.head(client)
            except (OSError, asyncio.IncompleteReadError) as error:
                self.problem(f"stream {client.number}: {type(error).__name__}: {error}")
                return None
            if status != 200 or headers.get(b"transfer-encoding") != b"chunked":
                body = await client.reader.read(300) if client.reader else b""
                self.problem(f"stream {client.number}: {status} {body[:200]!r}")
                return None
            self.open += 1
            return asyncio.create_task(self.read_stream(client))

    async def read_stream(self, client: Client) -> None:
        reader = client.reader
        assert reader is not None
        try:
            while True:
                size = int(await reader.readline(), 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    self.problem(f"stream {client.number} ended")
                    return
                self.chunk(client, chunk[:-2])
        except (OSError, ValueError, asyncio.IncompleteReadError) as error:
            self.problem(f"stream {client.number}: {type(error).__name__}: {error}")
        except asyncio.CancelledError:
            pass
        finally:
            self.open -= 1

    def chunk(self, client: Client, chunk: bytes) -> None:
        arrived = time.time()
        if chunk.startswith(b":"):
            if self.measuring:
                self.counts["heartbeats"] += 1
            return
        if chunk.startswith(b"retry:"):
            return
        if b"\nevent: task\n" not in chunk:
            self.problem(f"stream {client.number}: unexpected {chunk[:200]!r}")
            return
        match = STAMP.search(chunk)
        if match is None:
            return  # the task as queued: no progress report yet
        stamp = float(match[1])
        client.stamp = stamp
        if not self.measuring:
            return
        self.counts["events"] += 1
        self.latency_ms.append((arrived - stamp) * 1000)
        # id: <tag>:<ms>-<seq>.<tag>:<ms>-<seq>, the owner's channel first
        cursor = chunk[4 : chunk.index(b"\n")]
        published_ms = int(cursor.split(b".", 1)[0].split(b":", 1)[1].split(b"-", 1)[0])
        self.publish_ms.append(arrived * 1000 - published_ms)

    # --- polling ---------------------------------------------------------------

    async def poll(self, client: Client) -> None:
        interval = self.args.interval
        path = f"/api/v1/tasks/{client.task}/"
        due = time.monotonic() + random.uniform(0, interval)
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if time.monotonic() - due > interval and self.measuring:
                self.counts["late_polls"] += 1  # a whole interval behind: the load lags
            due += interval
            sent = time.time()
            try:
                if client.writer is None:
                    await self.connect(client)
                assert client.writer is not None
                client.writer.write(self.request(client, path, "application/json"))
                status, headers = await self.head(client)
                assert client.reader is not None
                if b"content-length" in headers:
                    body = await client.reader.readexactly(int(headers[b"content-length"]))
                else:
                    body = await self.chunked_body(client.reader)
            except (OSError, ValueError, asyncio.IncompleteReadError) as error:
                self.problem(f"poll {client.number}: {type(error).__name__}: {error}")
                client.writer = None
                continue
            arrived = time.time()
            if headers.get(b"connection") == b"close":
                client.writer.close()
                client.writer = None
            if status != 200:
                self.problem(f"poll {client.number}: {status} {body[:200]!r}")
                continue
            match = STAMP.search(body)
            if match is None:
                continue
            client.stamp = float(match[1])
            if self.measuring:
                self.counts["polls"] += 1
                self.response_ms.append((arrived - sent) * 1000)
                self.age_ms.append((arrived - client.stamp) * 1000)

    @staticmethod
    async def chunked_body(reader: asyncio.StreamReader) -> bytes:
        body = b""
        while True:
            size = int(await reader.readline(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return body
            body += chunk[:-2]

    # --- the whole run ---------------------------------------------------------

    async def sample(self, clients: list[Client]) -> None:
        """The age of what each client shows, at random moments."""
        while True:
            await asyncio.sleep(random.uniform(0.5, 1.5) * SAMPLE_SECONDS)
            if not self.measuring:
                continue
            now = time.time()
            self.shown_ms.extend((now - c.stamp) * 1000 for c in clients if c.stamp is not None)

    async def main(self) -> dict[str, Any]:
        entries = json.loads(Path(self.args.clients).read_text())
        clients = [Client(n, e.get("cookie", ""), e.get("task")) for n, e in enumerate(entries)]
        loop = asyncio.get_running_loop()
        commands: asyncio.Queue[str] = asyncio.Queue()
        loop.add_reader(sys.stdin.fileno(), lambda: commands.put_nowait(sys.stdin.readline()))
        opened = time.monotonic()
        if self.args.mode == "poll":
            tasks = [asyncio.create_task(self.poll(client)) for client in clients]
            self.open = len(clients)
        else:
            gate = asyncio.Semaphore(OPEN_CONCURRENCY)
            started = await asyncio.gather(*(self.open_stream(c, gate) for c in clients))
            tasks = [task for task in started if task is not None]
        print(
            f"opened {self.open} in {time.monotonic() - opened:.1f} s, "
            f"problems {len(self.problems)}",
            flush=True,
        )
        sampler = asyncio.create_task(self.sample(clients))
        while True:
            command = (await commands.get()).strip()
            if command == "measure":
                self.measuring, self.started = True, time.monotonic()
            elif command in ("stop", ""):
                break
        seconds = time.monotonic() - self.started if self.started else 0.0
        still_open = self.open
        sampler.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, sampler, return_exceptions=True)
        for client in clients:
            if client.writer is not None:
                client.writer.close()
        return {
            "clients": len(clients),
            "open_at_stop": still_open,
            "seconds": round(seconds, 2),
            "counts": self.counts,
            "problems": self.problems,
            "latency_ms": summary(self.latency_ms),
            "publish_ms": summary(self.publish_ms),
            "age_at_arrival_ms": summary(self.age_ms),
            "shown_age_ms": summary(self.shown_ms),
            "response_ms": summary(self.response_ms),
        }


def summary(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    return {
        "n": len(values),
        "mean": round(sum(values) / len(values), 2),
        "p50": round(percentile(values, 50), 2),
        "p90": round(percentile(values, 90), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("idle", "stream", "poll"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", required=True, help="JSON file: [{cookie, task}]")
    parser.add_argument("--interval", type=float, default=1.0, help="poll mode: seconds")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = uvloop.run(Run(args).main())
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
