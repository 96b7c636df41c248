"""The use of the message broker, in bounded time: publish, revoke, readiness.

Celery's defaults suit a worker, which should wait for its broker, not a web request:

* ``apply_async`` retries a failed publish (``task_publish_retry``);
* kombu's ``Connection.default_channel`` reconnects in a loop for up to
  ``broker_connection_timeout`` seconds, sleeping 2 s, then 4 s, between tries, so a
  closed port takes about 6 s to fail (kombu ``connection.py``,
  ``_ensure_connection``/``retry_over_time``).

A publish here is one connection attempt (``ensure_connection(max_retries=0)``, bounded
by ``broker_connection_timeout``), no retry, and a publisher confirm awaited at most
``TASKS_PUBLISH_TIMEOUT``; it returns only once the broker has the message, or raises
``BrokerError``. A connection that fails is collected, so the pool reconnects on the
next publish instead of reusing a dead socket. What does not get through stays in the
outbox for the relay (``tasks_api.relay``).

After a failed publish a process skips its own publishing for ``PAUSE_SECONDS``
(``publishing_paused``): with the broker away, each enqueue would otherwise spend a
connection attempt (up to ``broker_connection_timeout`` on a silent host) only to leave
its message to the relay anyway.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from amqp.exceptions import MessageNacked  # a publisher confirm that said no
from celery import current_app
from kombu import Connection
from kombu.exceptions import OperationalError

from tasks_api.conf import app_settings

logger = logging.getLogger(__name__)

# A pooled connection that was open but fails at once most likely died with a broker
# restart: it gets one fresh attempt, so a restart costs no client a 503.
STALE_FAILURE_SECONDS = 1.0
# How long a process leaves publishing to the relay after a publish failed.
PAUSE_SECONDS = 5.0

# time.monotonic() until which this process does not try to publish (see the docstring).
_paused_until = 0.0


class BrokerError(Exception):
    """The broker could not take the message (down, refused, timed out, or nacked)."""


def _errors(connection: Connection) -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OperationalError, OSError, MessageNacked)
    return errors + tuple(connection.connection_errors) + tuple(connection.channel_errors)


def publishing_paused() -> bool:
    """Whether a publish failed in this process less than ``PAUSE_SECONDS`` ago."""
    return time.monotonic() < _paused_until


def _pause(*, failed: bool) -> None:
    global _paused_until
    _paused_until = time.monotonic() + PAUSE_SECONDS if failed else 0.0


def publishing_resume() -> None:
    """Publish again at once (the broker is known to be back, or a test starts afresh)."""
    _pause(failed=False)


def publish(*, name: str, task_id: str, kwargs: dict[str, Any]) -> None:
    """Publish one task message, confirmed, or raise ``BrokerError`` within a few seconds."""
    app = current_app
    timeout = app_settings.TASKS_PUBLISH_TIMEOUT
    for attempt in (1, 2):
        started = time.monotonic()
        with app.producer_or_acquire() as producer:
            connection = producer.connection
            was_open = connection.connected
            try:
                connection.ensure_connection(max_retries=0)
                app.send_task(
                    name,
                    kwargs=kwargs,
                    task_id=task_id,
                    producer=producer,
                    retry=False,
                    timeout=timeout,
                    confirm_timeout=timeout,
                )
                _pause(failed=False)
                return
            except _errors(connection) as exc:
                connection.collect()
                error = exc
        stale = was_open and time.monotonic() - started < STALE_FAILURE_SECONDS
        if attempt == 2 or not stale:
            break
        logger.info("Broker connection was stale (%s); trying a fresh one.", error)
    _pause(failed=True)
    logger.warning("Broker unavailable for task %s: %s: %s", task_id, type(error).__name__, error)
    raise BrokerError(f"{type(error).__name__}: {error}") from error


def revoke(*, task_id: str) -> None:
    """Ask the workers to drop a task; best effort, logged on failure.

    Cancelling does not depend on it: the task record's cancel flag stops the task
    when it starts. This only lets a worker that holds the message already (prefetched)
    drop it at once, and works where the broker supports broadcast (RabbitMQ, the
    filesystem transport with a control folder).
    """
    app = current_app
    with app.pool.acquire(block=True) as connection:
        try:
            connection.ensure_connection(max_retries=0)
            app.control.revoke(task_id, connection=connection)
        except _errors(connection) as exc:
            connection.collect()
            logger.warning("Could not broadcast the revoke of %s: %s", task_id, exc)


def check() -> None:
    """Readiness: one connection attempt to the broker, bounded by its timeout."""
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=0)
