"""Django's own session tests (``tests/sessions_tests`` of its source distribution).

They are not in the wheel, so the sdist of the installed Django version is fetched once
per machine with pip, and the few files the tests use (``sessions_tests/`` and the
failing cache of ``cache/failing_cache.py``) are unpacked under
``~/.cache/sessions-api/django-<version>-tests/``, which goes on ``sys.path``. None of
Django's code is kept in this repository.

``sessions_tests`` is an app (its custom session model) that the rest of the suite does
not install: it is installed while its models are imported and while the tests that use
them run (``modify_settings``), and its one table is created once in the test database.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import django
import pytest
from django.test import modify_settings

DJANGO_VERSION = django.get_version()
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sessions-api"
SOURCE = CACHE_DIR / f"django-{DJANGO_VERSION}-tests"
# What is unpacked from the sdist's tests/ folder.
FILES = ("sessions_tests/", "cache/__init__.py", "cache/failing_cache.py")
WITH_TEST_APP = modify_settings(INSTALLED_APPS={"append": "sessions_tests"})


class FetchError(Exception):
    """The sdist could not be downloaded or unpacked."""


@contextmanager
def _machine_lock() -> Iterator[None]:
    """One fetch at a time on this machine (parallel runs wait for the first)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _unpack(sdist: Path, into: Path) -> None:
    prefix = f"django-{DJANGO_VERSION}/tests/"
    with tarfile.open(sdist) as archive:
        members = [
            member
            for member in archive.getmembers()
            if member.name.startswith(prefix)
            and member.name.removeprefix(prefix).startswith(FILES)
            and (member.isfile() or member.isdir())
        ]
        for member in members:
            member.name = member.name.removeprefix(prefix)
        archive.extractall(into, members=members, filter="data")
    if not (into / "sessions_tests" / "tests.py").is_file():
        raise FetchError(f"{sdist.name} has no tests/sessions_tests/tests.py")


def django_tests_source() -> Path:
    """The folder holding Django's ``sessions_tests`` package; fetched on first use."""
    if (SOURCE / "sessions_tests" / "tests.py").is_file():
        return SOURCE
    with _machine_lock():
        if (SOURCE / "sessions_tests" / "tests.py").is_file():
            return SOURCE  # another run fetched it while this one waited
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as work:
            try:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        "--quiet",
                        "--no-binary",
                        ":all:",
                        "--no-deps",
                        f"Django=={DJANGO_VERSION}",
                        "--dest",
                        work,
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
            except subprocess.CalledProcessError as error:
                lines = (error.stderr or error.stdout or "").strip().splitlines()
                raise FetchError(lines[-1] if lines else f"pip exited {error.returncode}") from None
            except subprocess.TimeoutExpired:
                raise FetchError("pip download took longer than 300 s") from None
            sdists = list(Path(work).glob("*.tar.gz"))
            if len(sdists) != 1:
                raise FetchError(f"pip download left {[p.name for p in Path(work).iterdir()]}")
            unpacked = Path(work) / "unpacked"
            _unpack(sdists[0], unpacked)
            shutil.rmtree(SOURCE, ignore_errors=True)
            unpacked.rename(SOURCE)  # whole or not at all: a killed run leaves no half copy
    return SOURCE


try:
    FETCH_ERROR: str | None = None
    # Appended, not prepended: Django's test packages never shadow an installed module.
    sys.path.append(str(django_tests_source()))
except FetchError as error:
    FETCH_ERROR = f"Django {DJANGO_VERSION}'s source distribution ({error})"


@pytest.fixture(scope="session", autouse=True)
def _custom_session_table(django_db_setup: None, django_db_blocker) -> Iterator[None]:
    """The table of ``sessions_tests.CustomSession``, for the duration of the run."""
    if FETCH_ERROR is not None:
        yield
        return
    from django.db import connection
    from sessions_tests.models import CustomSession

    with django_db_blocker.unblock():
        created = CustomSession._meta.db_table not in connection.introspection.table_names()
        if created:
            with connection.schema_editor() as editor:
                editor.create_model(CustomSession)
    yield
    if created:
        with django_db_blocker.unblock(), connection.schema_editor() as editor:
            editor.delete_model(CustomSession)
