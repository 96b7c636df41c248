"""Raw Celery beside the API, for ``bench/run.py``: publish loop, round trips, queue care.

Runs in its own process with the service's settings and environment (same broker,
same publisher-confirm setting, same result backend, same queue as the API server)::

    python bench/raw_celery.py publish --seconds 5     # demo.add, apply_async in a loop
    python bench/raw_celery.py roundtrip --count 100   # bench.add: apply_async().get()
    python bench/raw_celery.py purge | delete          # the benchmark's own queue

Each prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARGS = {"a": 1, "b": 2}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def publish(seconds: float) -> dict[str, Any]:
    """Publish ``demo.add`` as fast as one process can for ``seconds``.

    The same task and message the API publishes, through ``apply_async`` with the
    app's own producer pool, so the broker settings (publisher confirms) are the same.
    """
    from tasks_api.registry import task_type_get

    task = task_type_get("demo.add").task  # type: ignore[union-attr]
    for _ in range(20):  # connection, channel and confirm mode set up off the clock
        task.apply_async(kwargs=ARGS)
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        task.apply_async(kwargs=ARGS)
        count += 1
    elapsed = time.perf_counter() - started
    return {"published": count, "seconds": elapsed, "rate": count / elapsed}


def roundtrip(count: int, interval: float) -> dict[str, Any]:
    """``bench.add.apply_async().get()``, ``count`` times in a row; milliseconds each.

    ``get()`` polls the result backend (django-celery-results) every ``interval``
    seconds, as the API's client polls ``GET /api/v1/tasks/{id}/``.
    """
    from bench.celery_app import add

    for _ in range(5):
        add.apply_async(kwargs=ARGS).get(timeout=60, interval=interval)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        result = add.apply_async(kwargs=ARGS).get(timeout=60, interval=interval)
        samples.append((time.perf_counter() - started) * 1000)
        if result != 3:
            raise SystemExit(f"bench.add returned {result!r}, not 3")
    return {"ms": samples}


def queue_op(operation: str) -> dict[str, Any]:
    """Purge or delete the benchmark's queue (``CELERY_TASK_DEFAULT_QUEUE``)."""
    from celery import current_app
    from django.conf import settings

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with current_app.connection_for_write() as connection:
        channel = connection.default_channel
        try:
            if operation == "purge":
                return {"queue": queue, "purged": channel.queue_purge(queue) or 0}
            channel.queue_delete(queue)
            return {"queue": queue, "deleted": True}
        except connection.channel_errors as exc:  # the queue does not exist (yet)
            return {"queue": queue, "error": str(exc)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("publish").add_argument("--seconds", type=float, default=5)
    trip = commands.add_parser("roundtrip")
    trip.add_argument("--count", type=int, default=100)
    trip.add_argument("--interval", type=float, default=0.002)
    commands.add_parser("purge")
    commands.add_parser("delete")
    args = parser.parse_args()
    _setup()
    if args.command == "publish":
        result = publish(args.seconds)
    elif args.command == "roundtrip":
        result = roundtrip(args.count, args.interval)
    else:
        result = queue_op(args.command)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
