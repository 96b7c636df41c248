"""Runs last (by name): no log line of the whole test run holds a secret.

Every test client notes the session cookies, CSRF tokens and passwords it handles
(tests/servers.py: SEEN_SECRETS); this greps every log the run wrote — the in-process
log and each gunicorn's — for any of them.
"""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_user
from tests.servers import LOG_DIR, SEEN_SECRETS, remember_secret


@pytest.mark.django_db
def test_no_session_key_csrf_token_or_password_in_any_log_line():
    from tests.conftest import Client

    # Make sure this run has logged a login, whatever else ran before.
    user = make_user()
    client = Client()
    client.csrf()
    response = client.send(
        "POST", "/api/v1/auth/login/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    client.send(
        "POST", "/api/v1/auth/login/", {"username": user.username, "password": "wrong-Pa55word"}
    )
    for secret in (PASSWORD, "wrong-Pa55word", "another long passphrase 42"):
        remember_secret(secret)

    logs = sorted(LOG_DIR.glob("*.log"))
    text = "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in logs)
    assert "/api/v1/auth/login/" in text, "the run's log was not captured"
    leaked = sorted(secret for secret in SEEN_SECRETS if secret in text)
    print(
        f"\nLog check: {len(SEEN_SECRETS)} secrets seen, {len(logs)} log files, "
        f"{text.count(chr(10))} lines, {len(leaked)} leaked"
    )
    assert not leaked, f"{len(leaked)} secrets appear in the logs, e.g. {leaked[0][:6]}…"
