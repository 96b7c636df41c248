"""``manage.py tasks_relay``: publish the task outbox's due messages until stopped.

Run one beside the web processes and workers (the Procfile's ``relay``, the compose
file's ``relay`` service); more are safe on PostgreSQL and SQLite alike (see
``tasks_api.relay``). SIGTERM or SIGINT lets the batch in hand finish, then it exits.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tasks_api.relay import BATCH_SIZE, POLL_SECONDS, relay_run

logger = logging.getLogger("tasks_api.relay")


class Command(BaseCommand):
    help = "Publish the task outbox's due messages to the broker until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS)

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        logger.info("Outbox relay started.")
        published = relay_run(
            stop=stop, batch_size=options["batch_size"], poll_seconds=options["poll_seconds"]
        )
        logger.info("Outbox relay stopped; it published %d messages.", published)
