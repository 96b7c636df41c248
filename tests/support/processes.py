"""A setting or a command in a fresh Python process, away from this run's settings."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.namespace import ROOT

# A key as `make run` makes one (.secret_key).
STRONG_KEY = secrets.token_urlsafe(50)


def run_clean(command: list[str], **env: str) -> subprocess.CompletedProcess:
    """``command`` in the repository root, with none of this run's Django settings."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SESSION_", "DJANGO_", "CACHE_"))
    }
    clean.update(
        {"DJANGO_SETTINGS_MODULE": "api_project.settings", "DJANGO_SECRET_KEY": STRONG_KEY}
    )
    clean.update(env)
    return subprocess.run(
        command,
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    return run_clean([sys.executable, "-c", code], **env)


def setting_in_fresh_process(name: str, *, cwd: Path = ROOT, **env: str) -> Any:
    """A setting as ``api_project.settings`` (the one in ``cwd``) computes it under
    ``env`` (as JSON)."""
    code = f"import json, api_project.settings as s; print(json.dumps(s.{name}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)
