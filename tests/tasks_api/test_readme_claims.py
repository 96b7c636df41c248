"""What the README promises about tasks, beyond the end-to-end run of each type.

Who owns a task (the caller's session on every engine, then the user it logs in as),
that cancel needs the CSRF token like every unsafe call, that the enqueue limit counts
per owner whatever device a user sends from, and that a task cancelled while it
waits in the queue never runs, even on a worker that never heard the revoke.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from tasks_api.models import TaskRecord
from tests.factories import make_user
from tests.support.api import login
from tests.support.clients import Client
from tests.support.polling import wait_until_dropped
from tests.support.problems import problem
from tests.support.workers import enqueue

ADD = {"a": 1, "b": 2}


def task_url(task: dict) -> str:
    return f"/api/v1/tasks/{task['id']}/"


def accepted(response) -> dict:
    assert response.status_code == 202, response.content
    return response.json()


def browser_with(cookie: str) -> Client:
    """Another client sending the session cookie ``cookie`` (a copy of it)."""
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return other


@pytest.mark.engines("signed_cookies", "file")
def test_an_anonymous_task_is_its_sessions_then_its_users(make_client, engine):
    browser = make_client()
    assert browser.session_cookie() is None
    task = accepted(enqueue(browser, "demo.add", ADD))
    # The first task gave the anonymous caller a session, which owns it.
    anonymous_cookie = browser.session_cookie()
    assert anonymous_cookie
    assert browser.get(task_url(task)).json()["id"] == task["id"]
    assert browser_with(anonymous_cookie).get(task_url(task)).status_code == 200
    stranger = make_client()
    problem(stranger.get(task_url(task)), 404, "not_found")
    assert stranger.get("/api/v1/tasks/").json()["count"] == 0

    user = make_user()
    login(browser, user)  # POST /api/v1/auth/login/
    assert browser.get(task_url(task)).json()["id"] == task["id"]
    phone = make_client()
    login(phone, user)
    assert [item["id"] for item in phone.get("/api/v1/tasks/").json()["results"]] == [task["id"]]
    # The anonymous session from before the login owns nothing any more.
    problem(browser_with(anonymous_cookie).get(task_url(task)), 404, "not_found")


@pytest.mark.django_db
def test_cancel_needs_the_csrf_token_anonymous_or_logged_in():
    browser = Client()
    token = browser.csrf()
    for step in ("anonymous", "logged in"):
        if step == "logged in":
            login(browser, make_user())
            token = browser.cookies[settings.CSRF_COOKIE_NAME].value
        task = accepted(enqueue(browser, "demo.add", ADD))
        cancel = f"{task_url(task)}cancel/"
        browser.credentials()  # no X-CSRFToken header
        problem(browser.send("POST", cancel), 403, "csrf_failed")
        browser.credentials(HTTP_X_CSRFTOKEN="x" * len(token))
        problem(browser.send("POST", cancel), 403, "csrf_failed")
        assert TaskRecord.objects.get(pk=task["id"]).cancel_requested_at is None, step
        browser.credentials(HTTP_X_CSRFTOKEN=token)
        response = browser.send("POST", cancel)
        assert response.status_code == 202, response.content
        assert response.json()["status"] == "REVOKED"


@pytest.mark.django_db
@override_settings(TASKS_ENQUEUE_RATE="3/min")
def test_a_users_enqueues_count_together_on_every_device():
    user = make_user()
    laptop, phone, other = Client(), Client(), Client()
    for browser, who in ((laptop, user), (phone, user), (other, make_user())):
        browser.csrf()
        login(browser, who)
    for browser in (laptop, laptop, phone):
        accepted(enqueue(browser, "demo.add", ADD))
    for browser in (phone, laptop):
        refused = enqueue(browser, "demo.add", ADD)
        problem(refused, 429, "throttled")
        assert int(refused["Retry-After"]) > 0
    # Another user, from the same address, has a count of their own.
    accepted(enqueue(other, "demo.add", ADD))
    assert TaskRecord.objects.filter(owner_user=user).count() == 3


@pytest.mark.integration
def test_a_task_cancelled_while_queued_never_runs_once_a_worker_starts(api, worker_factory):
    """No countdown and no worker consuming: the task waits in the queue. Cancelled
    there, it is REVOKED at once; a worker started afterwards never heard the revoke
    broadcast (nor asked its peers: no mingle), and still does not run it."""
    worker = worker_factory()
    task = accepted(enqueue(api, "demo.add", ADD))
    assert task["status"] == "PENDING"
    response = api.send("POST", f"{task_url(task)}cancel/")
    assert response.status_code == 202, response.content
    cancelled = response.json()
    assert cancelled["status"] == "REVOKED"
    assert cancelled["started_at"] is None and cancelled["finished_at"] is not None

    worker.start()
    done = wait_until_dropped(api, task["id"])
    assert done["result"] is None and done["error"] is None
    assert TaskRecord.objects.get(pk=task["id"]).started_at is None
    assert f"Task demo.add[{task['id']}] succeeded" not in worker.log()
