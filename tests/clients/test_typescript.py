"""The TypeScript client (clients/typescript/) and the console built on it, kept true.

- its types are what openapi-typescript makes of the committed openapi/schema.yaml;
- it type-checks (``tsc``, strict) and its unit tests pass (Node's test runner);
- the committed builds, the package's ``dist/`` and the console's bundle in
  api_project/static/console/, are what the sources build to, byte for byte;
- its final task statuses are the server's;
- against a live gunicorn and Celery worker it does what a Node caller needs: CSRF,
  keys, login with token rotation, a revoked session, a task to SUCCESS, and the typed
  errors of a 413 and a 429.

Each check skips without Node.js or the package's dependencies, and fails under CI=true.
"""

from __future__ import annotations

import filecmp
import json
import os
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest

from tasks_api.policy import FINAL_STATES
from tests.servers import remember_secret
from tests.support.live import LiveService
from tests.support.node import CLIENT, Node

pytestmark = pytest.mark.standalone
GENERATED = CLIENT / "src" / "schema.ts"


def run(node: Node, *command: str, env: dict[str, str] | None = None, timeout: float = 180):
    """A command in clients/typescript with the package's tools on PATH."""
    path = os.pathsep.join([str(node.bin), str(Path(node.node).parent), os.environ["PATH"]])
    result = subprocess.run(
        command,
        cwd=CLIENT,
        env={**os.environ, **(env or {}), "PATH": path, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result


def output(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"


def generate_command(out: Path) -> list[str]:
    """The package's `generate` script, writing to ``out`` instead of src/schema.ts."""
    script = json.loads((CLIENT / "package.json").read_text())["scripts"]["generate"]
    assert "--output src/schema.ts" in script, script
    return shlex.split(script.replace("--output src/schema.ts", f"--output {out}"))


def test_the_generated_types_match_the_committed_schema(node: Node, tmp_path: Path):
    out = tmp_path / "schema.ts"
    result = run(node, *generate_command(out))
    assert result.returncode == 0, output(result)
    assert out.read_bytes() == GENERATED.read_bytes(), (
        "clients/typescript/src/schema.ts is stale: run `make schema` (or "
        "`npm run regenerate` in clients/typescript) and commit the result."
    )


def test_the_package_and_the_console_type_check(node: Node):
    result = run(node, "npm", "run", "--silent", "typecheck")
    assert result.returncode == 0, output(result)


def test_the_unit_tests_pass(node: Node):
    result = run(node, "npm", "test")
    assert result.returncode == 0, output(result)
    assert "# fail 0" in result.stdout, output(result)


def test_the_committed_dist_is_built_from_the_sources(node: Node, tmp_path: Path):
    result = run(node, node.tool("tsc"), "-p", "tsconfig.build.json", "--outDir", str(tmp_path))
    assert result.returncode == 0, output(result)
    built = sorted(path.name for path in tmp_path.iterdir())
    committed = sorted(path.name for path in (CLIENT / "dist").iterdir())
    assert built == committed, f"dist/ has {committed}, the sources build {built}"
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, CLIENT / "dist", built, shallow=False)
    assert not mismatch and not errors, (
        f"clients/typescript/dist/ is stale ({mismatch + errors}): run `npm run build` "
        "in clients/typescript and commit the result."
    )


def test_the_committed_console_bundle_is_built_from_the_sources(node: Node):
    result = run(node, node.node, "scripts/build-console.mjs", "--check")
    assert result.returncode == 0, output(result)


def test_the_clients_final_statuses_are_the_servers(node: Node):
    code = (
        "import('./dist/index.js').then((m) => "
        "console.log(JSON.stringify({final: m.FINAL_STATUSES, all: m.statusEnumValues})))"
    )
    result = run(node, node.node, "-e", code)
    assert result.returncode == 0, output(result)
    statuses = json.loads(result.stdout)
    assert set(statuses["final"]) == FINAL_STATES
    assert set(statuses["all"]) >= FINAL_STATES


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_the_client_against_the_live_service(node: Node, live_stack: LiveService, tmp_path: Path):
    built = run(node, node.node, "scripts/build-tests.mjs")
    assert built.returncode == 0, output(built)
    password = f"a-long-password-{uuid.uuid4().hex}"
    remember_secret(password)
    secrets = tmp_path / "secrets.txt"
    result = run(
        node,
        node.node,
        "--test",
        "--test-reporter=spec",
        ".test-build/integration.test.js",
        env={
            "SESSIONS_API_URL": live_stack.base,
            "SESSIONS_API_PASSWORD": password,
            "SESSIONS_API_SECRETS_FILE": str(secrets),
        },
        timeout=240,
    )
    if secrets.exists():
        for line in secrets.read_text().splitlines():
            remember_secret(line)
    assert result.returncode == 0, output(result)
    # All seven ran: none was skipped for want of the URL.
    summary = result.stdout.splitlines()[-8:]
    assert any(line.endswith(" pass 7") for line in summary), output(result)
    assert any(line.endswith(" skipped 0") for line in summary), output(result)
