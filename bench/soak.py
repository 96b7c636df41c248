"""Soak: 50 concurrent clients for 5 minutes against a production-like stack.

`make soak` (not part of `make test`). Starts gunicorn (2 workers) on PostgreSQL with
the `cached_db` engine on Redis, and one Celery worker on RabbitMQ, then runs, at once:

* 20 users with two tabs each (40 clients sharing a session per user) writing and
  reading their own keys and changing their expiry: two tabs writing different keys
  of one session at the same time is where a lost update would show;
* 5 clients logging in, reading /me and logging out in a loop;
* 5 clients enqueueing demo.add and polling each task to SUCCESS.

At the end every user's session is read back and compared with what its tabs wrote
last: any missing or stale key is a lost write. Reports requests/s, p50/p95/p99, the
5xx count and the lost writes; exits non-zero if either is above 0.

    python bench/soak.py [--seconds 300] [--users 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import (
    HttpSession,
    celery_worker,
    fresh_postgres_database,
    gunicorn,
    manage,
    service_env,
)

BROKER = "amqp://guest:guest@127.0.0.1:5672//"


class Stats:
    """Latencies and status codes from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()

    def call(self, client: HttpSession, method: str, path: str, body=None):
        started = time.perf_counter()
        status, payload, _headers = client.request(method, path, body)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
            self.statuses[status] += 1
        return status, payload


def tab(
    stats: Stats,
    browser: HttpSession,
    base: str,
    prefix: str,
    expected: dict,
    lock: threading.Lock,
    stop: float,
) -> None:
    client = HttpSession(base)
    client.cookies, client.csrf = browser.cookies, browser.csrf  # one browser, two tabs
    counter = 0
    while time.monotonic() < stop:
        counter += 1
        key = f"{prefix}{random.randrange(10)}"
        roll = random.random()
        if roll < 0.5:
            status, _ = stats.call(
                client, "PUT", f"/api/v1/session/keys/{key}/", {"value": counter}
            )
            if status in (200, 201):
                with lock:
                    expected[key] = counter
        elif roll < 0.9:
            stats.call(client, "GET", f"/api/v1/session/keys/{key}/")
        elif roll < 0.95:
            stats.call(
                client, "PUT", "/api/v1/session/expiry/", {"seconds": random.randint(600, 7200)}
            )
        else:
            stats.call(client, "GET", "/api/v1/session/")


def login_loop(stats: Stats, base: str, stop: float) -> None:
    client = HttpSession(base)
    client.fetch_csrf()
    username, password = f"soak{uuid.uuid4().hex[:8]}", "soak test passphrase 77"
    stats.call(
        client, "POST", "/api/v1/auth/register/", {"username": username, "password": password}
    )
    while time.monotonic() < stop:
        client.csrf = client.cookies.get("csrftoken", client.csrf)
        stats.call(client, "GET", "/api/v1/auth/me/")
        stats.call(client, "POST", "/api/v1/auth/logout/")
        client.fetch_csrf()
        stats.call(
            client, "POST", "/api/v1/auth/login/", {"username": username, "password": password}
        )


def task_loop(stats: Stats, base: str, stop: float) -> None:
    client = HttpSession(base)
    client.fetch_csrf()
    while time.monotonic() < stop:
        status, task = stats.call(
            client, "POST", "/api/v1/tasks/", {"name": "demo.add", "args": {"a": 1, "b": 2}}
        )
        if status != 202:
            time.sleep(0.5)
            continue
        while time.monotonic() < stop + 30:
            status, polled = stats.call(client, "GET", f"/api/v1/tasks/{task['id']}/")
            if status != 200 or polled["status"] in {"SUCCESS", "FAILURE", "REVOKED"}:
                break
            time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()

    queue = f"soak-{uuid.uuid4().hex[:8]}"
    env = service_env(
        DATABASE_URL=fresh_postgres_database("sessions_api_soak"),
        CACHE_URL="redis://127.0.0.1:6379/11",
        SESSION_ENGINE="cached_db",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        TASKS_ENQUEUE_RATE="100000/min",
        LOGIN_THROTTLE_IP_USERNAME_RATE="100000/min",
        TASKS_ENQUEUE_ADDRESS_RATE="100000/min",
        TASKS_MAX_ACTIVE_PER_OWNER="1000000",
        LOGIN_THROTTLE_IP_RATE="100000/min",
        LOGIN_THROTTLE_USERNAME_RATE="100000/min",
        REGISTER_THROTTLE_RATE="100000/min",
        LOG_LEVEL="WARNING",
    )
    manage("migrate", "--noinput", env=env)
    stats = Stats()
    with celery_worker(env, queue=queue, name="soak"), gunicorn(env, workers=2) as base:
        stop = time.monotonic() + args.seconds
        threads, users = [], []
        for index in range(args.users):
            browser = HttpSession(base)
            browser.fetch_csrf()
            expected: dict[str, int] = {}
            lock = threading.Lock()
            users.append((browser, expected))
            for tab_no in range(2):
                threads.append(
                    threading.Thread(
                        target=tab,
                        args=(stats, browser, base, f"u{index}t{tab_no}k", expected, lock, stop),
                    )
                )
        threads += [threading.Thread(target=login_loop, args=(stats, base, stop)) for _ in range(5)]
        threads += [threading.Thread(target=task_loop, args=(stats, base, stop)) for _ in range(5)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

        lost = 0
        for browser, expected in users:
            status, items, _ = browser.request("GET", "/api/v1/session/keys/")
            stored = {item["key"]: item["value"] for item in items} if status == 200 else {}
            lost += sum(1 for key, value in expected.items() if stored.get(key) != value)

    from kombu import Connection

    with Connection(env.get("CELERY_BROKER_URL", BROKER)) as conn:
        conn.default_channel.queue_delete(queue)

    latencies = sorted(stats.latencies)
    quantiles = statistics.quantiles(latencies, n=100)
    server_errors = sum(n for status, n in stats.statuses.items() if status >= 500)
    print(f"soak: {len(threads)} clients for {elapsed:.0f} s on cached_db/PostgreSQL/Redis")
    print(f"requests: {len(latencies)}  ({len(latencies) / elapsed:.0f} req/s)")
    print(
        f"latency: p50 {quantiles[49] * 1000:.1f} ms  p95 {quantiles[94] * 1000:.1f} ms  "
        f"p99 {quantiles[98] * 1000:.1f} ms"
    )
    print(f"statuses: {dict(sorted(stats.statuses.items()))}")
    print(f"5xx: {server_errors}  lost writes: {lost}")
    return 1 if server_errors or lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
