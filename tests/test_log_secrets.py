"""The log check that ends every run (tests/conftest.py: ``_no_secret_in_any_log``).

The check itself runs after the last test, over every log the run wrote; these tests
show that it can see something: the run's own log captures requests, and a secret
planted in any log file under the folder, however deep, is found.
"""

from __future__ import annotations

import logging

import pytest

from tests.factories import PASSWORD, make_user
from tests.servers import LOG_DIR, gunicorn, remember_secret, secrets_in_logs


@pytest.mark.django_db
def test_the_run_log_captures_a_login_and_none_of_its_secrets():
    from tests.support.clients import Client

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
    for handler in logging.getLogger().handlers:
        handler.flush()

    run_log = (LOG_DIR / "pytest.log").read_text(encoding="utf-8")
    assert "/api/v1/auth/login/" in run_log, "the run's log was not captured"
    check = secrets_in_logs(secrets=[PASSWORD, "wrong-Pa55word", client.session_cookie()])
    assert LOG_DIR / "pytest.log" in check.files
    assert not check.leaked


def test_the_check_finds_a_secret_in_any_log_under_the_folder(tmp_path):
    (tmp_path / "pytest.log").write_text("GET /api/v1/session/ 200\n")
    (tmp_path / "deeper").mkdir()
    (tmp_path / "deeper" / "gunicorn-1.log").write_text("Cookie: sessionid=s3cr3t-key-123\n")
    (tmp_path / "notes.txt").write_text("other-secret-456\n")  # not a log

    check = secrets_in_logs(tmp_path, ["s3cr3t-key-123", "other-secret-456", "never-logged"])

    assert check.leaked == ["s3cr3t-key-123"]
    assert len(check.files) == 2 and check.lines == 2


def test_no_gunicorn_of_the_run_logs_where_the_check_does_not_read(tmp_path):
    # Every server the tests start goes through servers.gunicorn(), which refuses a log
    # outside the run's folder before it starts anything.
    refused = pytest.raises(ValueError, match="the log check would not read it")
    with refused, gunicorn({}, log=tmp_path / "gunicorn.log"):
        pass
    assert not (tmp_path / "gunicorn.log").exists()
