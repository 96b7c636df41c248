"""Settings for the test run: the real settings module, with test-friendly defaults.

Defaults are set in the environment *before* the settings module reads it, so the
tests exercise the same parsing code as production. Redis, PostgreSQL and RabbitMQ are
the real local servers; `tests/conftest.py` skips what needs one that is not running
(and fails instead under CI=true).
"""

import os
import tempfile

from tests.servers import reachable

REDIS_AVAILABLE = reachable("127.0.0.1", 6379)

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "k" * 40)
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("WHITENOISE_USE_FINDERS", "true")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("SESSION_FILE_PATH", tempfile.mkdtemp(prefix="sessions-api-tests-"))
if REDIS_AVAILABLE:
    os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/15")

from api_project.settings import *  # noqa: E402,F403

# Hashing with the default PBKDF2 costs ~100 ms a password; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Whitenoise warns about a missing STATIC_ROOT; the tests serve static files from finders.
STATIC_ROOT = tempfile.mkdtemp(prefix="sessions-api-static-")

# TASKS (tests/tasks_api): a real Celery worker runs in a subprocess, so the test
# database must be one it can open: a file for SQLite (one per test run), and the
# worker is pointed at it through TESTS_WORKER_DATABASE_NAME. Each run publishes to
# its own queue, so it never consumes another run's (or a dev worker's) messages.
import uuid  # noqa: E402

from kombu import Queue  # noqa: E402

RABBITMQ_AVAILABLE = reachable("127.0.0.1", 5672)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"sessions-api-test-{os.getpid()}.sqlite3")
    }
if os.environ.get("TESTS_WORKER_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["TESTS_WORKER_DATABASE_NAME"]  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault(
    "TESTS_CELERY_QUEUE", f"tests-{uuid.uuid4().hex[:12]}"
)
# The run deletes its queue at the end; should it die first, RabbitMQ drops the queue
# after an hour unused.
CELERY_TASK_QUEUES = [Queue(CELERY_TASK_DEFAULT_QUEUE, queue_arguments={"x-expires": 3600000})]
