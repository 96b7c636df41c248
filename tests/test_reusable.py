"""The two apps as a user gets them: the wheel, in a new project, exactly as the README says.

Builds the wheel from this checkout (``pip wheel --no-deps .``), installs it with its
dependencies (at the versions requirements.txt pins) in a fresh virtualenv, makes a
project with ``django-admin startproject``, appends to it the code blocks of the
README's section "Use in your own Django project", migrates it on SQLite and serves it
with ``runserver`` beside a Celery worker of that project on RabbitMQ, then drives it
over HTTP like a browser. The README is the configuration: when its blocks stop
working, this fails.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from contextlib import ExitStack
from pathlib import Path

import pytest

from sessions_api.conf import DEFAULTS as SESSIONS_API_DEFAULTS
from tasks_api.conf import DEFAULTS as TASKS_API_DEFAULTS
from tests.namespace import TEMP_DIR, queue_name
from tests.servers import (
    LOG_DIR,
    ROOT,
    HttpSession,
    celery_worker,
    free_port,
    inherited_env,
    remember_secret,
    start_process,
    stop_process,
    wait_until_healthy,
)
from tests.support.workers import deleting_queue

pytestmark = [pytest.mark.integration, pytest.mark.standalone, pytest.mark.timeout(600)]

SECTION = "## Use in your own Django project"
PROJECT = "mysite"  # the README's project
APPS = ("sessions_api", "tasks_api")
BROKER = "amqp://guest:guest@127.0.0.1:5672//"
# The wheel is built from a copy of what a clean clone holds, so that the build writes
# nothing into the checkout and no stale build/ folder can leak into the wheel.
NOT_A_CLEAN_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.py[co]",
    "test-artifacts", "staticfiles", ".pytest_cache", ".ruff_cache", ".run", ".work",
    "*.sqlite3*", ".secret_key", ".env",
)  # fmt: skip


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"\n{SECTION}\n" in text, f"README.md has no section {SECTION!r}"
    return re.split(r"^## ", text.split(f"\n{SECTION}\n", 1)[1], maxsplit=1, flags=re.M)[0]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", section, flags=re.M | re.S)


def project_files(section: str) -> dict[str, str]:
    """What the section appends to which file of the project: the first python block to
    settings.py, the second to urls.py, each later one to the file its first line names."""
    blocks = code_blocks(section, "python")
    assert len(blocks) >= 2, "the section needs its settings.py and urls.py blocks"
    files = {f"{PROJECT}/settings.py": blocks[0], f"{PROJECT}/urls.py": blocks[1]}
    for block in blocks[2:]:
        first_line = block.split("\n", 1)[0]
        named = re.fullmatch(rf"# ({PROJECT}/[\w/]+\.py)", first_line)
        assert named, f"a later python block must start with '# {PROJECT}/<file>.py': {block}"
        files[named[1]] = block
    assert {f"{PROJECT}/celery.py", f"{PROJECT}/__init__.py"} <= files.keys(), files.keys()
    return files


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def project_env() -> dict[str, str]:
    """The project's processes see none of this run's Django, Celery or import settings."""
    drop = ("PYTEST_", "TESTS_", "DJANGO_", "CELERY_", "PYTHONPATH", "VIRTUAL_ENV")
    return {**inherited_env(drop=drop), "PYTHONUNBUFFERED": "1"}


def build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_A_CLEAN_CLONE)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", ".", "-w", tmp / "dist", cwd=source)
    (wheel,) = (tmp / "dist").glob("sessions_api-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if ".dist-info/" not in name}
    carried = {
        path.relative_to(source).as_posix()
        for app in APPS
        for path in (source / app).rglob("*")
        if path.is_file()
    }
    # Every file of the two apps (migrations, templates, static files), and nothing else.
    assert shipped == carried, (
        f"only in the wheel: {sorted(shipped - carried)}; "
        f"not in the wheel: {sorted(carried - shipped)}"
    )
    return wheel


def install(tmp: Path, wheel: Path, env: dict[str, str]) -> Path:
    """A fresh virtualenv with the wheel and its dependencies; its python."""
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / "bin" / "python"
    # The versions the service pins; pip takes no extras in a constraints file.
    constraints = tmp / "constraints.txt"
    constraints.write_text(re.sub(r"\[[^]]*\]", "", (ROOT / "requirements.txt").read_text()))
    # This environment's pip installs into the new one, which then needs no pip of its own.
    pip = [sys.executable, "-m", "pip", "--python", python]
    run(*pip, "install", "--quiet", wheel, "-c", constraints, cwd=tmp)
    run(*pip, "check", cwd=tmp)
    code = "import sessions_api, tasks_api; print(sessions_api.__file__, tasks_api.__file__)"
    where = run(python, "-c", code, cwd=tmp, env=env).split()
    assert all(path.startswith(f"{venv}/") for path in where), f"not the wheel's: {where}"
    return python


def start_project(
    tmp: Path, python: Path, files: dict[str, str], queue: str, env: dict[str, str]
) -> Path:
    run(python.parent / "django-admin", "startproject", PROJECT, cwd=tmp, env=env)
    project = tmp / PROJECT
    for name, code in files.items():
        with open(project / name, "a", encoding="utf-8") as file:
            file.write("\n" + code)
    with open(project / PROJECT / "settings.py", "a", encoding="utf-8") as file:
        file.write(
            "\n# tests/test_reusable.py: this run's own queue (RabbitMQ drops it after an hour"
            " unused).\nfrom kombu import Queue\n\n"
            f"CELERY_TASK_DEFAULT_QUEUE = {queue!r}\n"
            "CELERY_TASK_QUEUES = [Queue(CELERY_TASK_DEFAULT_QUEUE, "
            'queue_arguments={"x-expires": 3600000})]\n'
        )
    run(python, "manage.py", "migrate", "--noinput", cwd=project, env=env)
    return project


def test_the_wheel_in_a_new_project_as_the_readme_says(rabbitmq_server: None) -> None:
    section = readme_section()
    files = project_files(section)
    assert f"celery -A {PROJECT} worker" in "".join(code_blocks(section, "sh"))
    assert "python manage.py tasks_relay" in "".join(code_blocks(section, "sh"))
    for name, default in {**SESSIONS_API_DEFAULTS, **TASKS_API_DEFAULTS}.items():
        row = next((line for line in section.splitlines() if f"| `{name}` |" in line), "")
        parts = default if isinstance(default, tuple) else (default,)
        assert row and all(str(part) in row for part in parts), f"README: no row {name}={default}"

    env = project_env()
    queue = queue_name("reusable")
    tag = uuid.uuid4().hex[:10]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=TEMP_DIR)))
        python = install(tmp, build_wheel(tmp), env)
        project = start_project(tmp, python, files, queue, env)

        stack.enter_context(deleting_queue(queue, BROKER))
        port = free_port()
        server = start_process(
            [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            log=LOG_DIR / f"reusable-runserver-{tag}.log",
            cwd=project,
        )
        stack.callback(stop_process, server)
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(server, base, path="/api/v1/session/", name="runserver")
        worker_log = stack.enter_context(
            celery_worker(env, queue=queue, name=queue, app=PROJECT, python=python, cwd=project)
        )

        browser = HttpSession(base)
        browser.fetch_csrf()
        theme = {"key": "theme", "value": {"dark": True}}
        put = browser.request("PUT", "/api/v1/session/keys/theme/", {"value": theme["value"]})
        assert put[:2] == (201, theme), put[1]
        assert browser.request("GET", "/api/v1/session/keys/theme/")[:2] == (200, theme)
        # The optional guard middleware: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused
        # (Django's default limit: 2.5 MiB).
        status, problem, _ = browser.request(
            "PUT", "/api/v1/session/keys/big/", {"value": "x" * 2_700_000}
        )
        assert (status, problem["code"]) == (413, "request_too_large"), problem

        username, password = f"reader-{tag}", f"a-long-password-{uuid.uuid4().hex}"
        remember_secret(password)
        status, user, _ = browser.request(
            "POST", "/api/v1/auth/register/", {"username": username, "password": password}
        )
        assert status == 201 and user["username"] == username, user
        browser.fetch_csrf()  # the login rotated the token
        status, sessions, _ = browser.request("GET", "/api/v1/auth/sessions/")
        assert status == 200 and [s["current"] for s in sessions] == [True], sessions
        assert browser.request("GET", "/api/v1/session/keys/theme/")[:2] == (200, theme)

        status, types, _ = browser.request("GET", "/api/v1/tasks/types/")
        assert status == 200 and "demo.add" in {t["name"] for t in types}, types
        status, task, _ = browser.request(
            "POST", "/api/v1/tasks/", {"name": "demo.add", "args": {"a": 1, "b": 2}}
        )
        assert status == 202, task
        assert _until_success(browser, task, worker_log)["result"] == 3

        # The outbox relay ships in the wheel: a scheduled task reaches the worker
        # through it (the web process publishes only what is due at once).
        relay = start_process(
            [str(python), "manage.py", "tasks_relay"],
            env=env,
            log=LOG_DIR / f"reusable-relay-{tag}.log",
            cwd=project,
        )
        stack.callback(stop_process, relay)
        status, task, _ = browser.request(
            "POST", "/api/v1/tasks/", {"name": "demo.add", "args": {"a": 2, "b": 2}, "countdown": 1}
        )
        assert status == 202 and task["run_after"], task
        assert _until_success(browser, task, worker_log)["result"] == 4


def _until_success(browser: HttpSession, task: dict, worker_log: Path) -> dict:
    deadline = time.monotonic() + 30
    while task["status"] != "SUCCESS":
        if task["status"] in {"FAILURE", "REVOKED"} or time.monotonic() > deadline:
            pytest.fail(
                f"demo.add did not succeed; last answer: {task}\n"
                f"worker log:\n{worker_log.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.2)
        status, task, _ = browser.request("GET", f"/api/v1/tasks/{task['id']}/")
        assert status == 200, task
    return task
