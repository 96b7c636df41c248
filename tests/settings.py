"""Settings for the test run: the real settings module, with test-friendly defaults.

Defaults are set in the environment *before* the settings module reads it, so the
tests exercise the same parsing code as production. Redis, PostgreSQL and RabbitMQ are
the real local servers; `need` (tests/support/clients.py) skips what needs one that
is not running (and fails instead under CI=true).

What belongs to this run (tests/namespace.py: its cache prefix, session folder,
database and queue names) is in the environment only while the settings module reads
it, and taken out again: every process the tests start inherits the environment, and a
server that inherited the test process's cache or session folder would share its state
(and have it wiped under it by the cache cleaner). The Celery workers that do share
this process's state are handed it explicitly (``WORKER_ENV``). The constant defaults
below stay in the environment: they are the same in every run.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from kombu import Queue

from tests.namespace import (
    MAIN_KEY_PREFIX,
    RUN_ID,
    TEMP_DIR,
    cache_url,
    child_env,
    queue_name,
    redis_available,
)

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "k" * 40)
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("WHITENOISE_USE_FINDERS", "true")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

# The run's temporary folders, all under TEMP_DIR, which tests/conftest.py removes when
# the run ends.
_SESSION_DIR = TEMP_DIR / "sessions"
_SESSION_DIR.mkdir(parents=True, exist_ok=True)
(TEMP_DIR / "static").mkdir(exist_ok=True)

_RUN_ENV = {"SESSION_FILE_PATH": str(_SESSION_DIR)}
# The cache: this run's prefix on the shared Redis database when Redis is running, else
# Django's local-memory cache (and the tests that need Redis skip). Only the pytest
# process probes: its workers get the answer in CACHE_URL (WORKER_ENV).
if "CACHE_URL" not in os.environ and redis_available():
    _RUN_ENV["CACHE_URL"] = cache_url(MAIN_KEY_PREFIX)


@contextmanager
def _environment(defaults: dict[str, str]) -> Iterator[None]:
    """``defaults`` in os.environ (unless already set) for the block, then removed."""
    added = [name for name in defaults if name not in os.environ]
    os.environ.update({name: defaults[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            del os.environ[name]


with _environment(_RUN_ENV):
    from api_project.settings import *  # noqa: F403

# True when the in-process cache is Redis (the cache session engines need it).
REDIS_AVAILABLE = CACHES["default"]["BACKEND"] == "api_project.cache.RedisCache"  # noqa: F405
if REDIS_AVAILABLE:
    # Also for a CACHE_URL given from outside: the cache cleaner deletes only the keys
    # under this prefix, so it must be the run's own and never empty.
    CACHES["default"]["KEY_PREFIX"] = MAIN_KEY_PREFIX  # noqa: F405

# Hashing with the default PBKDF2 costs ~100 ms a password; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Whitenoise warns about a missing STATIC_ROOT; the tests serve static files from finders.
STATIC_ROOT = str(TEMP_DIR / "static")

# TASKS (tests/tasks_api): a real Celery worker runs in a subprocess, so the test
# database must be one it can open: a file for SQLite, and the worker is pointed at it
# through TESTS_WORKER_DATABASE_NAME. On PostgreSQL the test database carries the run
# id, so two runs on one server (both from DATABASE_URL=.../sessions_api) do not drop
# each other's test_sessions_api.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(TEMP_DIR / "test.sqlite3")}  # noqa: F405
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": f"test_{DATABASES['default']['NAME']}_{RUN_ID}"  # noqa: F405
    }
if os.environ.get("TESTS_WORKER_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["TESTS_WORKER_DATABASE_NAME"]  # noqa: F405

# Each run publishes to its own queue, so it never consumes another run's (or a dev
# worker's) messages. The run deletes it at the end; should it die first, RabbitMQ
# drops the queue after an hour unused.
CELERY_TASK_DEFAULT_QUEUE = queue_name("tasks")
CELERY_TASK_QUEUES = [Queue(CELERY_TASK_DEFAULT_QUEUE, queue_arguments={"x-expires": 3600000})]

# What a Celery worker on these settings needs to share this process's state: the run
# id (and so the queue and folders) and the cache as this process resolved it.
WORKER_ENV = {
    **child_env(),
    "CACHE_URL": os.environ.get("CACHE_URL") or _RUN_ENV.get("CACHE_URL") or "locmemcache://",
}
