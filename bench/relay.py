"""The outbox relay's throughput with a backlog, for ``bench/tasks.py``.

Runs with the service's settings and environment (same database, broker, confirms and
queue as the API server)::

    python bench/relay.py --count 10000

writes ``count`` task records with their outbox rows, all due (what piles up while the
broker is away), starts one ``manage.py tasks_relay`` pinned to the server core, and
times it from its start until the outbox is empty: every message published with a
publisher confirm and marked sent. No worker runs: the queue is the benchmark's own,
purged afterwards by the caller. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def measure(count: int, pin: list[str], log: Path) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")
    import django

    django.setup()
    from django.utils import timezone

    from tasks_api.models import TaskOutbox, TaskRecord

    TaskOutbox.objects.all().delete()
    owner = f"bench-relay-{uuid.uuid4().hex}"  # an anonymous owner of these tasks alone
    now = timezone.now()
    records = []
    for n in range(count):
        record = TaskRecord(name="demo.add", args={"a": 1, "b": n}, owner_token=owner)
        record.celery_result_id = str(uuid.uuid4())  # no result row joins these
        records.append(record)
    TaskRecord.objects.bulk_create(records, batch_size=1000)
    TaskOutbox.objects.bulk_create(
        [TaskOutbox(task=record, due_at=now) for record in records], batch_size=1000
    )
    with open(log, "ab") as out:
        relay = subprocess.Popen(
            [*pin, sys.executable, "manage.py", "tasks_relay"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    started = time.perf_counter()
    try:
        deadline = started + 600
        while TaskOutbox.objects.exists():
            if relay.poll() is not None or time.perf_counter() > deadline:
                raise SystemExit(f"the relay stopped or stalled; see {log}")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    TaskRecord.objects.filter(owner_token=owner).delete()
    # The relay's own start (Django, the broker connection) is inside the figure.
    return {"messages": count, "seconds": elapsed, "rate": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--pin", default="", help="a command prefix, e.g. 'taskset -c 0'")
    args = parser.parse_args()
    print(json.dumps(measure(args.count, args.pin.split(), args.log)))


if __name__ == "__main__":
    main()
