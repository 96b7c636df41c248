"""End to end through HTTP, with a real worker process and RabbitMQ (integration)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_celery_results.models import TaskResult

from sessions_api.selectors import session_engine_name
from tests.support.api import login
from tests.support.polling import cancel_unsent, wait_for
from tests.support.workers import enqueue

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("worker")]


def _accepted(response):
    assert response.status_code == 202, response.content
    task = response.json()
    # The task as it was queued, whatever a fast worker has done since (the first poll
    # shows that): never a result, an error or a start yet.
    assert task["status"] == "PENDING", task
    assert task["progress"] is None and task["result"] is None and task["error"] is None
    assert task["started_at"] is None and task["finished_at"] is None
    assert response["Location"] == f"http://testserver{task['url']}"
    assert task["url"] == f"/api/v1/tasks/{task['id']}/"
    return task


def _times_in_order(task):
    created, started, finished = (
        parse_datetime(task[name]) for name in ("created_at", "started_at", "finished_at")
    )
    # The worker's and this process's clocks are the same machine's.
    assert created <= started <= finished


def test_demo_add_succeeds_with_the_sum(api):
    task = _accepted(enqueue(api, "demo.add", {"a": 1, "b": 2.5}))
    done = wait_for(api, task["id"])
    assert done["status"] == "SUCCESS"
    assert done["result"] == 3.5
    assert done["error"] is None and done["progress"] is None
    assert done["args"] == {"a": 1, "b": 2.5}
    _times_in_order(done)
    # Integers stay integers.
    assert wait_for(api, _accepted(enqueue(api, "demo.add", {"a": 1, "b": 2}))["id"])["result"] == 3


def test_demo_sleep_reports_progress_then_succeeds(api):
    task = _accepted(enqueue(api, "demo.sleep", {"seconds": 1.5, "steps": 3}))
    seen: list[dict] = []
    done = wait_for(api, task["id"], seen=seen)
    assert done["status"] == "SUCCESS"
    assert done["result"] == {"slept": 1.5}
    progress = [item["progress"] for item in seen if item["status"] == "PROGRESS"]
    assert progress, [item["status"] for item in seen]
    assert progress[0].keys() == {"current", "total", "percent", "message"}
    assert all(item["total"] == 3 for item in progress)
    assert {(p["current"], p["percent"]) for p in progress} <= {(1, 33.3), (2, 66.7), (3, 100.0)}
    assert all(item["progress"] is None for item in seen if item["status"] != "PROGRESS")
    _times_in_order(done)


def test_demo_fail_fails_with_task_failed_and_no_traceback(api):
    task = _accepted(enqueue(api, "demo.fail", {"message": "it broke"}))
    done = wait_for(api, task["id"])
    assert done["status"] == "FAILURE"
    assert done["error"] == {"type": "TaskFailed", "message": "it broke"}
    assert done["result"] is None
    assert "Traceback" not in str(done)
    _times_in_order(done)


def test_text_stats_counts_the_text(api):
    text = "one two two\nthree three three\n"
    done = wait_for(api, _accepted(enqueue(api, "text.stats", {"text": text, "top": 2}))["id"])
    assert done["status"] == "SUCCESS"
    assert done["result"] == {
        "characters": len(text),
        "words": 6,
        "lines": 2,
        "top_words": [["three", 3], ["two", 2]],
    }


def test_mail_send_sends_one_message_per_recipient(user_api, worker):
    client = user_api()
    recipients = ["ana@example.com", "bo@example.org", "Ana@Example.com"]
    args = {"to": recipients, "subject": "Hello", "body": "Just checking."}
    done = wait_for(client, _accepted(enqueue(client, "mail.send", args))["id"])
    assert done["status"] == "SUCCESS", done
    assert done["result"] == {"sent": 2}  # the same address twice is one recipient
    written = "".join(path.read_text() for path in worker.mail_dir.iterdir())
    to_headers = re.findall(r"^To: (.*)$", written, re.MULTILINE)
    assert sorted(to_headers) == ["ana@example.com", "bo@example.org"]  # alone in each
    assert written.count("Subject: Hello") == 2


def test_sessions_clear_expired_runs_clearsessions_for_staff(user_api, settings):
    expired = Session.objects.create(
        session_key="e" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    live = Session.objects.create(
        session_key="l" * 32, session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    client = user_api(is_staff=True)
    done = wait_for(client, _accepted(enqueue(client, "sessions.clear_expired"))["id"])
    assert done["status"] == "SUCCESS", done
    assert done["result"] == {"engine": session_engine_name(), "cleared": True}
    assert not Session.objects.filter(pk=expired.pk).exists()
    assert Session.objects.filter(pk=live.pk).exists()


def test_cancel_while_waiting_on_countdown_is_never_published(api, relay, worker):
    task = _accepted(enqueue(api, "demo.add", {"a": 1, "b": 1}, countdown=1))
    assert task["status"] == "PENDING" and task["run_after"] is not None
    cancel_unsent(api, task["id"])
    # Past its time, with a relay and a worker running: no message ever went out.
    time.sleep(2)
    assert wait_for(api, task["id"])["status"] == "REVOKED"  # and it stays so
    assert not TaskResult.objects.filter(task_id=task["id"]).exists()
    assert task["id"] not in worker.log()


def test_a_scheduled_task_runs_when_it_is_due_not_before(api, relay):
    run_after = timezone.now() + timedelta(seconds=2)
    response = enqueue(api, "demo.add", {"a": 2, "b": 3}, run_after=run_after.isoformat())
    task = _accepted(response)
    assert parse_datetime(task["run_after"]) == run_after
    assert not TaskResult.objects.filter(task_id=task["id"]).exists()
    done = wait_for(api, task["id"], timeout=30)
    assert done["status"] == "SUCCESS" and done["result"] == 5
    started = parse_datetime(done["started_at"])
    print(f"\nrun_after {run_after:%H:%M:%S.%f}, started {started - run_after} after it")
    assert started >= run_after
    assert done["run_after"] == task["run_after"]


def test_cancel_while_running_ends_revoked_within_10_seconds(api):
    task = _accepted(enqueue(api, "demo.sleep", {"seconds": 30, "steps": 30}))
    wait_for(api, task["id"], until=lambda t: t["status"] == "PROGRESS")
    asked = time.monotonic()
    response = api.send("POST", f"/api/v1/tasks/{task['id']}/cancel/")
    assert response.status_code == 202
    done = wait_for(api, task["id"], timeout=10)
    took = time.monotonic() - asked
    print(f"\nrunning demo.sleep: cancel to REVOKED in {took:.2f} s")
    assert done["status"] == "REVOKED"
    assert done["result"] is None and done["started_at"] and done["finished_at"]
    assert took < 10


def test_cancel_of_a_finished_task_is_409(api):
    task = _accepted(enqueue(api, "demo.add", {"a": 1, "b": 1}))
    wait_for(api, task["id"])
    response = api.send("POST", f"/api/v1/tasks/{task['id']}/cancel/")
    assert response.status_code == 409
    assert response.json()["code"] == "task_finished"


def test_another_owners_task_is_404_on_get_cancel_and_list(api, user_api):
    task = _accepted(enqueue(api, "demo.add", {"a": 1, "b": 1}))
    for other in (user_api(), _fresh_anonymous()):
        assert other.get(f"/api/v1/tasks/{task['id']}/").status_code == 404
        response = other.send("POST", f"/api/v1/tasks/{task['id']}/cancel/")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert other.get("/api/v1/tasks/").json()["count"] == 0
    assert wait_for(api, task["id"])["status"] == "SUCCESS"  # still the owner's, untouched


def _fresh_anonymous():
    from tests.support.clients import Client

    client = Client()
    client.csrf()
    return client


def test_anonymous_tasks_pass_to_the_user_on_login(api, make_user, user_api):
    task = _accepted(enqueue(api, "demo.add", {"a": 2, "b": 2}))
    wait_for(api, task["id"])
    anonymous_cookie = api.session_cookie()
    user = make_user()
    login(api, user)  # POST /api/v1/auth/login/: new key, data kept, user_logged_in
    assert api.session_cookie() != anonymous_cookie
    assert api.get(f"/api/v1/tasks/{task['id']}/").status_code == 200
    # The user owns it now, from any browser, and the old anonymous identity does not.
    elsewhere = user_api(user)
    assert elsewhere.get(f"/api/v1/tasks/{task['id']}/").json()["result"] == 4
    assert elsewhere.get("/api/v1/tasks/").json()["count"] == 1
    before_login = _fresh_anonymous()
    before_login.cookies[settings.SESSION_COOKIE_NAME] = anonymous_cookie
    response = before_login.get(f"/api/v1/tasks/{task['id']}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api.send("POST", "/api/v1/auth/logout/").status_code == 204
    assert api.get(f"/api/v1/tasks/{task['id']}/").status_code == 404
    assert elsewhere.get("/api/v1/tasks/").json()["count"] == 1


def test_idempotency_key_replays_the_first_task_and_refuses_a_different_body(api):
    key = {"HTTP_IDEMPOTENCY_KEY": "order-42"}
    first = _accepted(enqueue(api, "demo.add", {"a": 1, "b": 2}, headers=key))
    again = enqueue(api, "demo.add", {"b": 2, "a": 1}, headers=key)  # same body, reordered
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again["Location"].endswith(first["url"])
    conflict = enqueue(api, "demo.add", {"a": 1, "b": 3}, headers=key)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"
    assert api.get("/api/v1/tasks/").json()["count"] == 1
    # Keys are per owner: another caller's same key is a new task.
    other = _fresh_anonymous()
    assert _accepted(enqueue(other, "demo.add", {"a": 1, "b": 2}, headers=key))["id"] != first["id"]


def test_list_is_newest_first_filtered_and_paginated(api):
    ids = [_accepted(enqueue(api, "demo.add", {"a": n, "b": 0}))["id"] for n in range(3)]
    failed = _accepted(enqueue(api, "demo.fail", {"message": "x"}))["id"]
    for task_id in [*ids, failed]:
        wait_for(api, task_id)
    listed = api.get("/api/v1/tasks/").json()
    assert listed["count"] == 4
    assert [item["id"] for item in listed["results"]] == [failed, *reversed(ids)]
    assert api.get("/api/v1/tasks/?status=FAILURE").json()["results"][0]["id"] == failed
    assert api.get("/api/v1/tasks/?status=SUCCESS&name=demo.add").json()["count"] == 3
    assert api.get("/api/v1/tasks/?name=demo.sleep").json()["count"] == 0
    page = api.get("/api/v1/tasks/?page_size=3").json()
    assert len(page["results"]) == 3 and page["next"] and page["previous"] is None
    second = api.get(page["next"]).json()
    assert [item["id"] for item in second["results"]] == [ids[0]]
