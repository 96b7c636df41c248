"""A live service as users meet it: gunicorn over a fresh SQLite database, and its worker.

The browser tests (tests/browser) and the client tests (tests/clients) both drive one:
gunicorn as configured (``tests.servers.gunicorn``) over a migrated temporary SQLite
database, its tasks on a queue of this run, and a Celery worker reading that queue on
the real broker. The service's database lives as long as the fixture that starts it,
so every user a test creates there needs a name of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.factories import PASSWORD
from tests.namespace import queue_name
from tests.servers import celery_worker, gunicorn, manage, remember_secret, sqlite_service_env
from tests.support.workers import deleting_queue


@dataclass(frozen=True)
class LiveService:
    """The running service: its base URL, its environment and its Celery queue."""

    base: str
    env: dict[str, str]
    queue: str

    def create_user(self, username: str, password: str = PASSWORD, *, staff: bool = False) -> None:
        remember_secret(password)
        flags = ", is_staff=True, is_superuser=True" if staff else ""
        code = (
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user({username!r}, password={password!r}{flags})"
        )
        manage("shell", "-c", code, env=self.env)

    def is_local(self, url: str) -> bool:
        """True for this service's URLs and a page's own inline data."""
        return url.startswith((f"{self.base}/", "data:", "blob:")) or url == self.base


@contextmanager
def live_service(folder: Path, *, purpose: str, **overrides: str) -> Iterator[LiveService]:
    """gunicorn over a new SQLite database in ``folder``, its tasks on this run's queue
    for ``purpose`` (no worker: ``live_worker`` starts one); ``overrides`` are settings
    in its environment."""
    queue = queue_name(purpose)
    env = sqlite_service_env(folder, queue=queue, **overrides)
    with gunicorn(env) as base:
        yield LiveService(base=base, env=env, queue=queue)


@contextmanager
def live_worker(service: LiveService, *, concurrency: int = 2) -> Iterator[Path]:
    """A Celery worker of ``service`` reading its queue alone; yields the worker's log.
    The queue is deleted when the block ends (the broker may be gone by then: an empty
    queue left behind harms nothing)."""
    with (
        deleting_queue(service.queue, service.env["CELERY_BROKER_URL"], best_effort=True),
        celery_worker(
            service.env, queue=service.queue, name=service.queue, concurrency=concurrency
        ) as log,
    ):
        yield log
