"""Unit tests of the task services: publish after commit, hand-over, keys, pruning.

These run inside a test transaction, so nothing is committed and the broker is not
needed: where a publish would happen, a recorder stands in for it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api import services
from tasks_api.models import TaskRecord
from tests.support.clients import Client

pytestmark = pytest.mark.django_db


def _record(**fields) -> TaskRecord:
    fields.setdefault("name", "demo.add")
    record = TaskRecord(args={"a": 1, "b": 1}, **fields)
    record.celery_result_id = str(record.pk)
    record.save()
    return record


def test_message_is_published_only_after_the_commit(published, django_capture_on_commit_callbacks):
    client = Client()
    client.csrf()
    body = {"name": "demo.sleep", "args": {"seconds": 1}}
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.send("POST", "/api/v1/tasks/", body)
        assert response.status_code == 202
        assert published == []  # still inside the transaction: nothing sent yet
    assert len(callbacks) == 1
    callbacks[0]()
    task_id = response.json()["id"]
    assert published == [
        {
            "task": published[0]["task"],
            "task_id": task_id,
            "kwargs": {"seconds": 1, "steps": 10},  # validated, defaults filled in
            "countdown": 0,
        }
    ]
    assert published[0]["task"].name == "demo.sleep"


def test_lapsed_idempotency_key_starts_a_new_task(published, django_capture_on_commit_callbacks):
    client = Client()
    client.csrf()
    body = {"name": "demo.add", "args": {"a": 1, "b": 1}}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.send("POST", "/api/v1/tasks/", body, HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 202
    TaskRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        second = client.send("POST", "/api/v1/tasks/", body, HTTP_IDEMPOTENCY_KEY="k")
    assert second.status_code == 202
    assert second.json()["id"] != first.json()["id"]
    assert TaskRecord.objects.get(pk=first.json()["id"]).idempotency_key == ""
    assert len(published) == 2


def test_adoption_moves_the_sessions_tasks_and_keeps_the_users_keys(django_user_model):
    from django.contrib.sessions.backends.db import SessionStore

    from sessions_api.services import session_owner_token_ensure

    user = django_user_model.objects.create_user("ana", password="a-long-test-password")
    mine = _record(owner_user=user, idempotency_key="shared")
    session = SessionStore()
    token = session_owner_token_ensure(session=session)
    clash = _record(owner_token=token, idempotency_key="shared")
    other = _record(owner_token=token, idempotency_key="only-anonymous")
    stranger = _record(owner_token="someone-else")

    assert services.tasks_adopt_anonymous(user=user, session=session) == 2
    for record in (mine, clash, other, stranger):
        record.refresh_from_db()
    assert clash.owner_user == user and other.owner_user == user
    assert clash.owner_token == "" and other.owner_token == ""
    assert mine.idempotency_key == "shared" and clash.idempotency_key == ""
    assert other.idempotency_key == "only-anonymous"
    assert stranger.owner_user is None
    assert services.tasks_adopt_anonymous(user=user, session=SessionStore()) == 0


def test_start_claims_once_and_refuses_a_cancelled_or_unknown_task():
    running, cancelled = _record(owner_token="t"), _record(owner_token="t")
    TaskRecord.objects.filter(pk=cancelled.pk).update(cancel_requested_at=timezone.now())
    assert services.task_start(task_id=str(running.pk)) is True
    first_start = TaskRecord.objects.get(pk=running.pk).started_at
    assert first_start is not None
    assert services.task_start(task_id=str(running.pk)) is True  # a redelivery
    assert TaskRecord.objects.get(pk=running.pk).started_at == first_start
    assert services.task_start(task_id=str(cancelled.pk)) is False
    assert TaskRecord.objects.get(pk=cancelled.pk).started_at is None
    assert services.task_start(task_id=str(uuid.uuid4())) is False


def test_prune_deletes_old_records_with_their_results(settings):
    old, new = _record(owner_token="t"), _record(owner_token="t")
    TaskRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.TASKS_RETENTION_DAYS + 1)
    )
    for record in (old, new):
        TaskResult.objects.create(task_id=str(record.pk), status="SUCCESS", result="2")
    assert services.tasks_prune() == 1
    assert list(TaskRecord.objects.values_list("pk", flat=True)) == [new.pk]
    assert list(TaskResult.objects.values_list("task_id", flat=True)) == [str(new.pk)]


def test_mail_goes_to_each_distinct_recipient_alone(mailoutbox):
    recipients = ["a@example.com", "b@example.com", "A@example.com"]
    task_id = str(_record(name="mail.send", owner_token="t").pk)
    send = partial(
        services.mail_send_each, task_id=task_id, recipients=recipients, subject="S", body="B"
    )
    assert send() == 2
    assert [message.to for message in mailoutbox] == [["a@example.com"], ["b@example.com"]]
    assert all(not message.cc and not message.bcc for message in mailoutbox)
    # Another run of the same task (a redelivery) sends nothing again.
    assert send() == 2
    assert len(mailoutbox) == 2


def test_the_enqueuing_request_id_is_kept_in_the_task_record(published):
    client = Client()
    client.csrf()
    response = client.send(
        "POST",
        "/api/v1/tasks/",
        {"name": "demo.add", "args": {"a": 1, "b": 2}},
        HTTP_X_REQUEST_ID="trace-4711",
    )
    assert response.status_code == 202, response.content
    assert response["X-Request-ID"] == "trace-4711"
    assert TaskRecord.objects.get(pk=response.json()["id"]).request_id == "trace-4711"
