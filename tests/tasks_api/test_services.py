"""Unit tests of the task services: the outbox, publish after commit, the relay's
batches, the start claim, hand-over, keys, pruning.

These run inside a test transaction, so nothing is committed and the broker is not
needed: where a publish would happen, a recorder stands in for it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_celery_results.models import TaskResult

from api_project.celery import app
from sessions_api.models import RetiredOwnerToken
from tasks_api import broker, services
from tasks_api.models import TaskOutbox, TaskRecord
from tasks_api.policy import FAST_PATH_GRACE
from tasks_api.selectors import with_status
from tasks_api.services import StartClaim
from tests.support.clients import Client

pytestmark = pytest.mark.django_db

ADD = {"a": 1, "b": 2}


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
    task_id = response.json()["id"]
    # The message was written with the record, due for the relay only after the grace.
    row = TaskOutbox.objects.get(pk=task_id)
    assert row.due_at > timezone.now() + FAST_PATH_GRACE - timedelta(seconds=5)
    assert len(callbacks) == 1
    callbacks[0]()
    assert published == [
        {
            "name": "demo.sleep",
            "task_id": task_id,
            "kwargs": {"seconds": 1, "steps": 10},  # validated, defaults filled in
        }
    ]
    assert not TaskOutbox.objects.exists()  # sent: the row is gone


def test_an_enqueue_looks_its_owner_token_up_once(published):
    """The throttle and the service both ask whose the request is; the retired-token
    lookup behind the answer runs once a request."""
    client = Client()
    client.csrf()
    body = {"name": "demo.add", "args": ADD}
    assert client.send("POST", "/api/v1/tasks/", body).status_code == 202  # the token
    table = RetiredOwnerToken._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        assert client.send("POST", "/api/v1/tasks/", body).status_code == 202
    lookups = [query for query in queries.captured_queries if table in query["sql"]]
    assert len(lookups) == 1, lookups


def test_a_publish_the_broker_refuses_stays_in_the_outbox_for_the_relay(
    monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise broker.BrokerError("ConnectionRefusedError: [Errno 111] Connection refused")

    monkeypatch.setattr(broker, "publish", refuse)
    client = Client()
    client.csrf()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.send("POST", "/api/v1/tasks/", {"name": "demo.add", "args": ADD})
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "PENDING"
    row = TaskOutbox.objects.get(pk=response.json()["id"])
    assert row.due_at <= timezone.now()  # due at once, for the relay
    assert row.attempts == 1 and "refused" in row.last_error


def test_a_fast_path_too_far_behind_leaves_the_message_to_the_relay(
    published, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "FAST_PATH_MAX_BEHIND", 0)  # as if 1,000 were waiting
    client = Client()
    client.csrf()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.send("POST", "/api/v1/tasks/", {"name": "demo.add", "args": ADD})
    assert response.status_code == 202
    assert published == []
    # Due at once: the relay's now, not after the fast path's grace.
    assert TaskOutbox.objects.get(pk=response.json()["id"]).due_at <= timezone.now()


def test_a_scheduled_task_is_held_in_the_outbox_until_it_is_due(
    published, django_capture_on_commit_callbacks
):
    client = Client()
    client.csrf()
    run_after = timezone.now() + timedelta(days=3)
    body = {"name": "demo.add", "args": ADD, "run_after": run_after.isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.send("POST", "/api/v1/tasks/", body)
    assert response.status_code == 202, response.content
    task = response.json()
    assert task["status"] == "PENDING"
    assert parse_datetime(task["run_after"]) == run_after
    assert published == []  # not handed to the broker: it waits in the database
    assert TaskOutbox.objects.get(pk=task["id"]).due_at == run_after
    assert services.outbox_relay_batch(size=10).claimed == 0  # not due yet
    assert client.get(f"/api/v1/tasks/{task['id']}/").json()["run_after"] == task["run_after"]


def test_a_countdown_becomes_run_after(published, django_capture_on_commit_callbacks):
    client = Client()
    client.csrf()
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.send(
            "POST", "/api/v1/tasks/", {"name": "demo.add", "args": ADD, "countdown": 86400}
        )
    assert response.status_code == 202, response.content
    run_after = parse_datetime(response.json()["run_after"])
    assert before + timedelta(days=1) <= run_after <= timezone.now() + timedelta(days=1)
    assert published == []


def test_the_relay_publishes_due_messages_oldest_first_and_once(published):
    now = timezone.now()
    late, early, later = (_record(owner_token="t") for _ in range(3))
    for record, due in ((late, now - timedelta(seconds=1)), (early, now - timedelta(seconds=5))):
        TaskOutbox.objects.create(task=record, due_at=due)
    TaskOutbox.objects.create(task=later, due_at=now + timedelta(hours=1))
    batch = services.outbox_relay_batch(size=10)
    assert (batch.claimed, batch.published, batch.error) == (2, 2, None)
    assert [call["task_id"] for call in published] == [str(early.pk), str(late.pk)]
    assert list(TaskOutbox.objects.values_list("pk", flat=True)) == [later.pk]
    assert services.outbox_relay_batch(size=10).claimed == 0


def test_a_claimed_batch_is_not_taken_again_until_its_lease_ends(monkeypatch):
    record = _record(owner_token="t")
    TaskOutbox.objects.create(task=record, due_at=timezone.now())

    def refuse_after_claiming(**kwargs):
        # Another relay looks while this one publishes: the row is leased, not due.
        assert services.outbox_relay_batch(size=10).claimed == 0
        raise broker.BrokerError("timeout")

    monkeypatch.setattr(broker, "publish", refuse_after_claiming)
    batch = services.outbox_relay_batch(size=10, retry_after=timedelta(seconds=3))
    assert (batch.claimed, batch.published, batch.error) == (1, 0, "timeout")
    row = TaskOutbox.objects.get(pk=record.pk)
    assert row.attempts == 1 and row.last_error == "timeout"
    assert row.due_at > timezone.now()  # due again after retry_after, not the lease


def test_a_cancelled_unsent_task_is_never_published(published):
    record = _record(owner_token="t")
    TaskOutbox.objects.create(task=record, due_at=timezone.now() + timedelta(hours=1))
    cancelled = services.task_cancel(record=with_status(TaskRecord.objects).get(pk=record.pk))
    assert cancelled.status == "REVOKED"
    assert not TaskOutbox.objects.exists()
    # One cancelled after its row was written due, before a relay took it.
    other = _record(owner_token="t")
    TaskOutbox.objects.create(task=other, due_at=timezone.now())
    TaskRecord.objects.filter(pk=other.pk).update(cancel_requested_at=timezone.now())
    assert services.outbox_relay_batch(size=10).published == 0
    assert published == [] and not TaskOutbox.objects.exists()


def test_more_due_messages_than_the_outbox_holds_is_503(published, settings):
    settings.TASKS_OUTBOX_MAX = 2
    for _ in range(3):
        TaskOutbox.objects.create(task=_record(owner_token="t"), due_at=timezone.now())
    client = Client()
    client.csrf()
    response = client.send("POST", "/api/v1/tasks/", {"name": "demo.add", "args": ADD})
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "broker_unavailable"
    assert TaskRecord.objects.count() == 3  # nothing recorded
    # Scheduled messages not yet due do not count.
    TaskOutbox.objects.update(due_at=timezone.now() + timedelta(hours=1))
    assert (
        client.send("POST", "/api/v1/tasks/", {"name": "demo.add", "args": ADD}).status_code == 202
    )


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
    start = services.task_start
    assert start(task_id=str(running.pk), redelivered=False) is StartClaim.RUN
    first_start = TaskRecord.objects.get(pk=running.pk).started_at
    assert first_start is not None
    # A second copy of the message (published twice) is not run...
    assert start(task_id=str(running.pk), redelivered=False) is StartClaim.DUPLICATE
    # ...but the broker's redelivery (its worker died) is, keeping the first start.
    assert start(task_id=str(running.pk), redelivered=True) is StartClaim.RUN
    assert TaskRecord.objects.get(pk=running.pk).started_at == first_start
    assert start(task_id=str(cancelled.pk), redelivered=False) is StartClaim.REFUSED
    assert start(task_id=str(cancelled.pk), redelivered=True) is StartClaim.REFUSED
    assert TaskRecord.objects.get(pk=cancelled.pk).started_at is None
    assert start(task_id=str(uuid.uuid4()), redelivered=False) is StartClaim.REFUSED


def test_a_finished_task_is_not_started_again_even_when_redelivered():
    record = _record(owner_token="t")
    assert services.task_start(task_id=str(record.pk), redelivered=False) is StartClaim.RUN
    TaskResult.objects.create(task_id=str(record.pk), status="SUCCESS", result="2")
    assert services.task_start(task_id=str(record.pk), redelivered=True) is StartClaim.DUPLICATE


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


def test_prune_keeps_a_task_that_waits_to_be_published(settings):
    old = timezone.now() - timedelta(days=settings.TASKS_RETENTION_DAYS + 1)
    waiting = _record(owner_token="t", created_at=old, run_after=old + timedelta(days=30))
    unsent = _record(owner_token="t", created_at=old)
    TaskOutbox.objects.create(task=unsent, due_at=old)
    assert services.tasks_prune() == 0
    assert set(TaskRecord.objects.values_list("pk", flat=True)) == {waiting.pk, unsent.pk}


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


def test_a_final_state_is_not_overwritten_by_a_later_retry():
    # What a worker does to its unacknowledged tasks when its broker connection drops,
    # also to one that has just finished.
    record = _record(owner_token="t")
    task_id = str(record.pk)
    app.backend.mark_as_done(task_id, 3)
    app.backend.mark_as_retry(task_id, Exception("cancelled by Celery"))
    stored = TaskResult.objects.get(task_id=task_id)
    assert (stored.status, stored.result) == ("SUCCESS", "3")
    # Before it finished, a retry is stored as ever.
    other = str(_record(owner_token="t").pk)
    app.backend.mark_as_retry(other, Exception("cancelled by Celery"))
    assert TaskResult.objects.get(task_id=other).status == "RETRY"
