"""The web process's use of the message broker, in bounded time.

Celery's defaults suit a worker, which should wait for its broker, not a web request:

* ``apply_async`` retries a failed publish (``task_publish_retry``);
* kombu's ``Connection.default_channel`` reconnects in a loop for up to
  ``broker_connection_timeout`` seconds, sleeping 2 s, then 4 s, between tries, so a
  closed port takes about 6 s to fail (kombu ``connection.py``,
  ``_ensure_connection``/``retry_over_time``).

The contract wants ``503 broker_unavailable`` within 5 seconds every time. So here each
pooled connection gets one connection attempt (``ensure_connection(max_retries=0)``,
bounded by ``broker_connection_timeout``), the publish does not retry, and the
publisher confirm waits at most ``TASKS_PUBLISH_TIMEOUT``. A connection that fails is
collected, so the pool reconnects on the next request instead of reusing a dead socket.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from amqp.exceptions import MessageNacked  # a publisher confirm that said no
from celery import Task, current_app
from kombu import Connection
from kombu.exceptions import OperationalError

from tasks_api.conf import app_settings

logger = logging.getLogger(__name__)

# A pooled connection that was open but fails at once most likely died with a broker
# restart: it gets one fresh attempt, so a restart costs no client a 503.
STALE_FAILURE_SECONDS = 1.0


class BrokerError(Exception):
    """The broker could not take the message (down, refused, timed out, or nacked)."""


def _errors(connection: Connection) -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OperationalError, OSError, MessageNacked)
    return errors + tuple(connection.connection_errors) + tuple(connection.channel_errors)


def publish(*, task: Task, task_id: str, kwargs: dict[str, Any], countdown: int) -> None:
    """Publish one task message, or raise ``BrokerError`` within a few seconds."""
    app = current_app
    timeout = app_settings.TASKS_PUBLISH_TIMEOUT
    for attempt in (1, 2):
        started = time.monotonic()
        with app.producer_or_acquire() as producer:
            connection = producer.connection
            was_open = connection.connected
            try:
                connection.ensure_connection(max_retries=0)
                task.apply_async(
                    kwargs=kwargs,
                    task_id=task_id,
                    countdown=countdown or None,
                    producer=producer,
                    retry=False,
                    timeout=timeout,
                    confirm_timeout=timeout,
                )
                return
            except _errors(connection) as exc:
                connection.collect()
                error = exc
        stale = was_open and time.monotonic() - started < STALE_FAILURE_SECONDS
        if attempt == 2 or not stale:
            break
        logger.info("Broker connection was stale (%s); trying a fresh one.", error)
    logger.warning("Broker unavailable for task %s: %s: %s", task_id, type(error).__name__, error)
    raise BrokerError(str(error)) from error


def revoke(*, task_id: str) -> None:
    """Ask the workers to drop a task; best effort, logged on failure.

    Cancelling does not depend on it: the task record's cancel flag stops the task
    when it starts. This only spares a worker holding the message (a countdown) the
    wait, and works where the broker supports broadcast (RabbitMQ, the filesystem
    transport with a control folder).
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
