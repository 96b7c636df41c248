"""The fast path's thread (``tasks_api.background.Batches``): what it is handed is done
in order, in batches, after a failure too, and a forked child has a thread of its own.
"""

from __future__ import annotations

import ast
import os
import threading

import pytest

from tasks_api.background import Batches

WAIT = 10.0  # seconds; a bound on waits that end at once when the code works


def _batches(handle, size: int = 100, name: str = "test-batches") -> Batches[int]:
    return Batches(name=name, handle=handle, size=size, exit_wait=lambda: 1.0)


def test_items_are_handled_in_order_and_what_comes_meanwhile_is_one_batch():
    seen: list[list[int]] = []
    gate = threading.Event()

    def handle(batch: list[int]) -> None:
        if batch == [0]:
            gate.wait(WAIT)  # the first batch is slow: the next items arrive meanwhile
        seen.append(batch)

    batches = _batches(handle)
    batches.submit(0)
    for item in range(1, 6):
        batches.submit(item)
    assert not batches.flush(0.05)  # the first batch is still being handled
    gate.set()
    assert batches.flush(WAIT)
    assert seen == [[0], [1, 2, 3, 4, 5]]


def test_a_batch_holds_at_most_size_items():
    seen: list[list[int]] = []
    gate = threading.Event()

    def handle(batch: list[int]) -> None:
        gate.wait(WAIT)
        seen.append(batch)

    batches = _batches(handle, size=2)
    for item in range(5):
        batches.submit(item)
    gate.set()
    assert batches.flush(WAIT)
    assert [item for batch in seen for item in batch] == [0, 1, 2, 3, 4]
    assert max(len(batch) for batch in seen) <= 2


def test_a_failed_batch_is_logged_and_the_thread_goes_on(caplog):
    seen: list[int] = []

    def handle(batch: list[int]) -> None:
        if 0 in batch:
            raise RuntimeError("the broker said no")
        seen.extend(batch)

    batches = _batches(handle)
    batches.submit(0)
    assert batches.flush(WAIT)
    batches.submit(1)
    assert batches.flush(WAIT)
    assert seen == [1]
    assert "a batch of 1 failed" in caplog.text and "the broker said no" in caplog.text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_starts_its_own_thread():
    """As a gunicorn worker forked from a master that had used it: the child's submit
    is done by a thread of the child's, and the parent's queue is not the child's."""
    seen: list[tuple[int, int]] = []
    batches = _batches(lambda batch: seen.extend((os.getpid(), item) for item in batch))
    batches.submit(1)
    assert batches.flush(WAIT)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it saw through the pipe, then leave at once
        try:
            batches.submit(2)
            done = batches.flush(WAIT)
            os.write(write, repr((done, seen)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    done, child_seen = ast.literal_eval(report)
    assert done is True
    assert child_seen == [(os.getpid(), 1), (pid, 2)]
    assert seen == [(os.getpid(), 1)]  # the parent's thread never saw the child's item


def test_stop_finishes_what_came_before_and_a_later_submit_starts_again():
    seen: list[int] = []
    names: list[str] = []

    def handle(batch: list[int]) -> None:
        names.append(threading.current_thread().name)
        seen.extend(batch)

    batches = _batches(handle, name="test-batches-stopped")
    assert batches.stop(WAIT)  # nothing started: nothing to stop
    for item in range(3):
        batches.submit(item)
    assert batches.stop(WAIT)
    assert seen == [0, 1, 2] and batches.unfinished == 0
    assert not [t for t in threading.enumerate() if t.name == "test-batches-stopped"]
    batches.submit(3)
    assert batches.flush(WAIT)
    assert seen == [0, 1, 2, 3]
    assert batches.stop(WAIT)
