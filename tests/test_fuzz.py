"""Fuzzing: schemathesis against a live server, from the committed schema.

Positive and negative data, every default check, with a session cookie and a CSRF
token: any server error or schema-conformance failure fails the test. A third run
replaces one input of each case (a query, path or header parameter, a header the API
reads, a body field) with a hostile value from ``tests/hostile.py`` (Unicode digits,
NFKC lookalikes, invisible, direction and control characters, numbers as strings,
very long strings; ``tests/schemathesis_hooks.py``), which schema-driven generation
never sends, and checks only that nothing is a server error and every error is a
problem document. This bounded run is part of `make test`; `make fuzz` runs the same
with many more examples (and ``tests/test_hostile_input.py``, the same vocabulary in
process, deeper).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.namespace import ARTIFACTS, queue_name
from tests.servers import ROOT, HttpSession, delete_queue, gunicorn, manage, service_env
from tests.support.clients import need

pytestmark = [pytest.mark.integration, pytest.mark.standalone]

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def test_schemathesis_finds_no_server_error_and_no_nonconformance(tmp_path, rabbitmq_server):
    need(SCHEMATHESIS.exists(), "schemathesis (requirements-dev.txt)")
    queue = queue_name("fuzz")
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        # Throttled answers are documented, but a fuzzer that only sees 429s tests little.
        TASKS_ENQUEUE_RATE="100000/min",
        LOGIN_THROTTLE_IP_USERNAME_RATE="100000/min",
        TASKS_ENQUEUE_ADDRESS_RATE="100000/min",
        TASKS_MAX_ACTIVE_PER_OWNER="100000",
        TASKS_MAIL_DAILY_RECIPIENTS="100000",
        LOGIN_THROTTLE_IP_RATE="100000/min",
        LOGIN_THROTTLE_USERNAME_RATE="100000/min",
        REGISTER_THROTTLE_RATE="100000/min",
    )
    manage("migrate", "--noinput", env=env)
    # The account whose lookalikes the hostile run registers (tests/schemathesis_hooks.py).
    code = "from django.contrib.auth.models import User; User.objects.create_user('fuzzer')"
    manage("shell", "-c", code, env=env)
    try:
        with gunicorn(env, workers=2) as base:
            common = [
                "--url",
                base,
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                "20261125",
                "--workers",
                "1",
            ]
            every_mode = ["--mode", "all"]
            runs = [
                run_schemathesis(
                    [
                        *common,
                        *every_mode,
                        *session_headers(base),
                        "--phases",
                        "examples,coverage,fuzzing",
                    ]
                ),
                # The stateful phase follows links (create a key, then read it) with one
                # cookie header throughout, so it gets a fresh session (the first run
                # flushed its own), and leaves out the operations that end or rotate
                # the session: they would break its chains for the harness's sake.
                run_schemathesis(
                    [
                        *common,
                        *every_mode,
                        *session_headers(base),
                        "--phases",
                        "stateful",
                        *[arg for op in ROTATING for arg in ("--exclude-operation-id", op)],
                    ]
                ),
                # Valid cases, each with one hostile input (tests/schemathesis_hooks.py).
                run_schemathesis(
                    [
                        *common,
                        "--mode",
                        "positive",
                        *session_headers(base),
                        "--phases",
                        "fuzzing",
                    ],
                    config="tests/schemathesis-hostile.toml",
                ),
            ]
    finally:
        delete_queue(queue)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, result in zip(("fuzz-phases", "fuzz-stateful", "fuzz-hostile"), runs, strict=True):
        (ARTIFACTS / f"{name}.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
        summary = [line for line in result.stdout.splitlines() if line.strip()][-12:]
        print(f"\n{name} (full report: test-artifacts/{name}.txt)\n" + "\n".join(summary))
    for result in runs:
        assert result.returncode == 0, result.stdout[-8000:]


# Operations after which the session cookie sent by the harness no longer names the
# caller's session (flush, key rotation, login state changes).
ROTATING = [
    "session_flush",
    "session_cycle",
    "auth_login",
    "auth_register",
    "auth_logout",
    "auth_password_change",
    "auth_sessions_revoke",
    "auth_sessions_revoke_others",
]


def session_headers(base: str) -> list[str]:
    """A new session with one key, and the headers that carry it and its CSRF token."""
    browser = HttpSession(base)
    browser.fetch_csrf()
    assert browser.request("PUT", "/api/v1/session/keys/seed/", {"value": 1})[0] == 201
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    return ["-H", f"Cookie: {cookie}", "-H", f"X-CSRFToken: {browser.csrf}"]


def run_schemathesis(
    args: list[str], *, config: str = "tests/schemathesis.toml"
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            config,
            "run",
            "openapi/schema.yaml",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
