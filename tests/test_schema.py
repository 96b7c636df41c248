"""The committed OpenAPI schema is what the code generates, and it validates cleanly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.support.clients import Client
from tests.support.engines import any_engine

ROOT = Path(__file__).resolve().parents[1]


def test_committed_schema_matches_the_code(tmp_path):
    out = tmp_path / "schema.yaml"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SESSION_", "DJANGO_", "CSRF_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "api_project.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        }
    )
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    committed = (ROOT / "openapi" / "schema.yaml").read_text()
    assert out.read_text() == committed, (
        "openapi/schema.yaml is stale: run `make schema` and commit the result."
    )


@any_engine
def test_schema_and_docs_are_served(client):
    yaml_doc = client.get("/api/schema/")
    assert yaml_doc.status_code == 200
    assert yaml_doc.content.startswith(b"openapi: 3")
    json_doc = client.get("/api/schema/?format=json")
    assert json_doc.status_code == 200
    paths = json_doc.json()["paths"]
    assert "/api/v1/session/keys/{key}/" in paths
    assert not any(path.startswith(("/healthz", "/readyz", "/admin")) for path in paths)
    for page in ["/api/docs/", "/api/redoc/"]:
        html = client.get(page).content.decode()
        assert "http://" not in html.replace("http://testserver", "")
        assert "https://" not in html
        assert "/static/drf_spectacular_sidecar/" in html


def test_an_unknown_schema_format_is_a_json_problem(db):
    """The schema view renders YAML; its errors are problem documents in JSON all the same
    (negotiation failed, so DRF would render them with the view's first renderer)."""
    for query in ("format=xml", "format=%C2%B2"):
        response = Client().get(f"/api/schema/?{query}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"
