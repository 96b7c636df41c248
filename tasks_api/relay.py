"""The outbox relay, and how a task travels from ``POST /api/v1/tasks/`` to a worker.

1. **One transaction.** ``services.task_enqueue`` inserts the ``TaskRecord`` and its
   unsent message, a ``TaskOutbox`` row, in the same transaction: both are committed,
   or neither. A row is a message the broker has not confirmed; it is deleted once it
   has.
2. **The fast path.** A task due at once is published by the web process itself right
   after the commit (``transaction.on_commit``), with publisher confirms, and its row
   deleted: by the process's fast-path thread (``tasks_api.background``), so that the
   answer waits for neither the broker nor the delete, and one delete serves all the
   messages of a batch. Its row is written due ``FAST_PATH_GRACE`` later, so the
   relay leaves it alone while that happens; should the process die between commit
   and publish, the relay publishes it once the grace has passed. A publish that fails
   (the broker away) is not an error: the row becomes due at once, the answer is
   ``202`` with the task ``PENDING`` either way, and for ``broker.PAUSE_SECONDS`` the
   process leaves its publishing to the relay rather than try a dead broker again.
3. **Scheduled tasks** (``countdown`` or ``run_after``, up to
   ``TASKS_MAX_DELAY_SECONDS``) are held in the database, not by the broker or a
   worker: their row is due at their time, and the relay publishes them then. A
   cancel before that deletes the row in the cancel's transaction: never published.
4. **The relay** (``manage.py tasks_relay``, its own process) looks every
   ``POLL_SECONDS`` for due rows (an index range read, no lock) and publishes them in
   batches of ``BATCH_SIZE``, oldest first, each message confirmed
   (``services.outbox_relay_batch``). A batch is claimed in a short transaction that
   moves its rows' ``due_at`` ``RELAY_LEASE`` ahead, under ``SELECT ... FOR UPDATE SKIP
   LOCKED`` on PostgreSQL (on SQLite the claim holds the database's write lock), so
   several relays never publish the same rows at once, and no transaction is held
   open while the broker is talked to. Published rows are deleted after the batch; at
   a broker failure the rest are due again at once and the relay waits, 0.5 s
   doubling up to ``MAX_BACKOFF_SECONDS``, before it tries again.
5. **Backpressure.** While the broker is away, due rows pile up; beyond
   ``TASKS_OUTBOX_MAX`` of them ``POST`` answers ``503 broker_unavailable`` and
   records nothing. Scheduled rows not yet due do not count.

**Exactly once.** Publishing is at least once: a message can go out twice when a web
process dies after its publish but before deleting the row, or a relay is killed
between a batch's publishes and its delete (the lease ends, the rows are published
again). The worker's start claim (``services.task_start``) makes the second copy a
no-op: only the first delivery of a task that has not started claims it (one
conditional UPDATE of ``started_at``); a copy of a started or finished task is
acknowledged and dropped without touching its state. A delivery the broker marks
``redelivered`` (its worker died or lost the connection before the ack, with
``acks_late``) still claims a task that has not finished, so a killed worker's task
runs again, as before. What stays possible: a worker killed after the task finished
but before the result was stored runs it again on redelivery (at least once there,
as Celery's late acks always were).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.db import DatabaseError, close_old_connections

from tasks_api.selectors import outbox_has_due
from tasks_api.services import outbox_relay_batch

logger = logging.getLogger(__name__)

# How often an idle relay looks for due messages: a scheduled task is published within
# this of its time (the contract allows 1 s).
POLL_SECONDS = 0.25
# Messages claimed and published at a time.
BATCH_SIZE = 100
# The longest wait between tries while the broker (or the database) is away.
MAX_BACKOFF_SECONDS = 5.0


def relay_run(
    *, stop: threading.Event, batch_size: int = BATCH_SIZE, poll_seconds: float = POLL_SECONDS
) -> int:
    """Publish due outbox messages until ``stop`` is set; return how many went out."""
    published = 0
    backoff = 0.0
    while not stop.is_set():
        # A long-lived process: drop a database connection that broke or aged out.
        close_old_connections()
        try:
            if not outbox_has_due():
                stop.wait(poll_seconds)
                continue
            batch = outbox_relay_batch(size=batch_size, retry_after=timedelta(0))
        except DatabaseError as exc:
            backoff = _wait_longer(stop, backoff, f"the database failed ({exc})")
            continue
        published += batch.published
        if batch.error is not None:
            backoff = _wait_longer(
                stop,
                backoff,
                f"published {batch.published} of {batch.claimed}, then the broker failed "
                f"({batch.error})",
            )
            continue
        if backoff:
            logger.info("Outbox relay: the broker takes messages again.")
        backoff = 0.0
        logger.debug("Outbox relay: published %d of %d.", batch.published, batch.claimed)
        if batch.claimed < batch_size:
            stop.wait(poll_seconds)
    return published


def _wait_longer(stop: threading.Event, backoff: float, what: str) -> float:
    """Wait (0.5 s, doubling up to ``MAX_BACKOFF_SECONDS``) after a failure; the new wait."""
    backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
    logger.warning("Outbox relay: %s; retrying in %.1f s.", what, backoff)
    stop.wait(backoff)
    return backoff
