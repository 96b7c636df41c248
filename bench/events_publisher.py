"""The worker side of the events section (``bench/events.py``): progress reports of many
tasks at a steady rate, through the worker's own code.

Each report is ``RegisteredTask.report_progress`` of the service's task class, called
as a running task calls it (``demo.sleep``'s, with the task's id pushed as its request):
the ``PROGRESS`` state stored in the result backend, then the task re-read and its
event published (XADD + PUBLISH). Its ``message`` is ``time.time()`` taken just before,
which is what the client (``bench/events_client.py``) dates each arrival against.
No Celery worker runs: the records were enqueued through the API and stay queued on
the benchmark's own queue, so nothing else writes their state meanwhile::

    python bench/events_publisher.py --tasks FILE --rate 10

reports every task of FILE (a JSON list of ids) ``--rate`` times a second, the tasks
spread evenly over each period, until SIGTERM; then prints one JSON line: reports
made, and how far behind schedule the loop fell.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", required=True, help="JSON file: a list of task ids")
    parser.add_argument("--rate", type=float, default=10.0, help="reports per task per second")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from tasks_api.registry import task_type_get

    task = task_type_get("demo.sleep").task  # type: ignore[union-attr]
    ids = json.loads(Path(args.tasks).read_text())
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    step = 1.0 / args.rate / len(ids)
    due = time.monotonic()
    reports, behind = 0, []
    started = time.monotonic()
    while not stopping:
        for task_id in ids:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                behind.append(-wait)
            due += step
            reports += 1
            task.push_request(id=task_id)
            try:
                task.report_progress(current=reports, total=10**9, message=f"{time.time():.6f}")
            finally:
                task.pop_request()
            if stopping:
                break
    seconds = time.monotonic() - started
    behind.sort()
    print(
        json.dumps(
            {
                "reports": reports,
                "seconds": round(seconds, 2),
                "rate": round(reports / seconds, 1),
                "behind_p50_ms": round(behind[len(behind) // 2] * 1000, 2) if behind else 0.0,
                "behind_max_ms": round(behind[-1] * 1000, 2) if behind else 0.0,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
