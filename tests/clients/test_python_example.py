"""The README's httpx example (section "From Python"), run as written against a live
gunicorn and Celery worker; then, through what it defined, a login that rotates the
CSRF token and a field error as its ApiError."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.servers import ROOT, remember_secret
from tests.support.live import LiveService

pytestmark = [pytest.mark.integration, pytest.mark.standalone]
SECTION = "## From Python"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"\n{SECTION}\n" in text, f"README.md has no section {SECTION!r}"
    section = re.split(r"^## ", text.split(f"\n{SECTION}\n", 1)[1], maxsplit=1, flags=re.M)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, flags=re.M | re.S)
    assert len(blocks) == 1, f"the section has {len(blocks)} python blocks, not one"
    return blocks[0]


def test_the_readme_httpx_example_runs_against_the_live_service(
    live_stack: LiveService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("SESSIONS_API_URL", live_stack.base)
    example: dict = {"__name__": "readme_example"}
    exec(compile(readme_block(), "README.md (From Python)", "exec"), example)  # noqa: S102
    api = example["api"]
    try:
        printed = capsys.readouterr().out.splitlines()
        assert printed == ["{'key': 'theme', 'value': {'dark': True}}", "400 reserved_key"]
        for cookie in api.cookies.jar:
            remember_secret(cookie.value)

        # Register (a login: the CSRF token rotates); the hook sends the new token.
        before = api.cookies["csrftoken"]
        password = f"a-long-password-{uuid.uuid4().hex}"
        remember_secret(password)
        username = f"py-{uuid.uuid4().hex[:8]}"
        api.post("auth/register/", json={"username": username, "password": password})
        assert api.cookies["csrftoken"] != before
        remember_secret(api.cookies["csrftoken"])
        api.put("session/keys/after-login/", json={"value": 1})
        assert api.get("auth/me/").json()["username"] == username
        assert [item["key"] for item in api.get("session/keys/").json()] == ["after-login", "theme"]

        # A field error: the ApiError carries the problem's errors.
        with pytest.raises(example["ApiError"]) as caught:
            api.put("session/expiry/", json={"seconds": 0})
        assert (caught.value.status, caught.value.code) == (400, "invalid")
        assert [item["field"] for item in caught.value.errors] == ["seconds"]
    finally:
        for cookie in api.cookies.jar:
            remember_secret(cookie.value)
        api.close()
