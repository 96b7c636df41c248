"""A thread of the process's own that takes work off the request path, in batches.

The fast path of an enqueue (``tasks_api.relay``, step 2) publishes a task's message
right after the commit. Done on the request's thread, every answer would wait for the
broker's confirm and for the write that marks the message sent. Here a ``Batches``
thread does it instead: the request hands its item over and answers, and the thread
takes everything handed over meanwhile as one batch (one delete for all the messages
it published, rather than a transaction each).

Nothing is lost when the thread or its process dies: what it has not done is still in
the outbox, which the relay publishes once the fast path's grace has passed. At a
normal exit (``atexit``) the thread is given a short while to finish what it holds,
and its database connections are closed.

One thread per process, started on the first ``submit``; a forked child (gunicorn's
workers, Celery's pool) starts its own, never inheriting the parent's queue.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

Item = TypeVar("Item")

# What stop() hands the thread: finish what came before, then end.
_STOP: Any = object()


class Batches(Generic[Item]):
    """Runs ``handle`` on a thread of its own with what ``submit`` was given, up to
    ``size`` items a call, in the order they came; at exit, waits ``exit_wait()``
    seconds at most for what is left (``stop``)."""

    def __init__(
        self,
        *,
        name: str,
        handle: Callable[[list[Item]], None],
        size: int,
        exit_wait: Callable[[], float],
    ) -> None:
        self.name = name
        self.handle = handle
        self.size = size
        self.exit_wait = exit_wait
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self._at_exit)

    def _reset(self) -> None:
        # Fresh state, also in a forked child: the parent's thread does not exist there,
        # and its lock may have been held at the moment of the fork.
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Condition()
        self._unfinished = 0

    def submit(self, item: Item) -> None:
        """Hand ``item`` to the thread (started now if it is not running)."""
        # Under the lock, so that no item can come after a stop()'s, unseen.
        with self._start_lock:
            with self._idle:
                self._unfinished += 1
            self._queue.put(item)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Let the thread finish what it was given, close its database connections and
        end; False if it had not within ``timeout``. A later ``submit`` starts a new one.

        At exit, and before a test run drops its databases (PostgreSQL drops none that a
        connection still uses).
        """
        with self._start_lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return True
            self._queue.put(_STOP)
            thread.join(timeout)
            if thread.is_alive():
                return False
            self._thread = None
            return True

    @property
    def unfinished(self) -> int:
        """Items submitted and not yet handled."""
        return self._unfinished

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far is handled; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout=timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take()
            if batch:
                self._handle(batch)
        connections.close_all()

    def _take(self) -> tuple[list[Item], bool]:
        """The next batch: waits for one item, then takes what else is there, up to
        ``size``; and whether stop() came (nothing after it is taken)."""
        batch: list[Item] = []
        item = self._queue.get()
        while item is not _STOP:
            batch.append(item)
            if len(batch) == self.size:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _handle(self, batch: list[Item]) -> None:
        try:
            self.handle(batch)
        except Exception:
            # The work is not lost (see the module docstring); the thread goes on.
            logger.exception("%s: a batch of %d failed", self.name, len(batch))
        finally:
            # A connection that broke, or outlived CONN_MAX_AGE, is replaced next time.
            close_old_connections()
            with self._idle:
                self._unfinished -= len(batch)
                self._idle.notify_all()

    def _at_exit(self) -> None:
        if not self.stop(self.exit_wait()) and self._unfinished:
            logger.warning(
                "%s: %d items left undone at exit (the relay takes them over)",
                self.name,
                self._unfinished,
            )
