"""The limits on enqueuing and listing tasks: each answers as documented, and holds.

In-process requests; nothing reaches a broker (inside a test transaction the publish
never runs and the message stays in the outbox; the parallel test records it instead,
see ``published``, once the fast path has done what the requests handed it).
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api import services
from tasks_api.checks import disabled_types_check
from tasks_api.models import TaskMailRecipient, TaskOutbox, TaskRecord
from tasks_api.policy import ACTIVE_TASK_RETRY_SECONDS, MAX_PAGE_BYTES
from tests.factories import make_user
from tests.support.clients import Client
from tests.support.workers import enqueue

MIB = 1024 * 1024
ADD = {"a": 1, "b": 2}


def _mail(*to: str) -> dict:
    return {"to": list(to), "subject": "Hello", "body": "Just checking."}


def _logged_in(user=None) -> Client:
    client = Client()
    client.force_login(user or make_user())
    client.csrf()
    return client


def _anonymous() -> Client:
    client = Client()
    client.csrf()
    return client


def _throttled(response, retry_after: int | None = None) -> int:
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "throttled"
    wait = int(response["Retry-After"])
    assert wait > 0
    if retry_after is not None:
        assert wait == retry_after
    return wait


def _accepted(response) -> str:
    assert response.status_code == 202, response.content
    return response.json()["id"]


# --- TASKS_ENQUEUE_ADDRESS_RATE ---------------------------------------------------


@pytest.mark.django_db
@override_settings(TASKS_ENQUEUE_ADDRESS_RATE="4/min")
def test_anonymous_sessions_from_one_address_share_one_enqueue_budget():
    first, second, third = _anonymous(), _anonymous(), _anonymous()
    for client in (first, second):
        _accepted(enqueue(client, "demo.add", ADD))
        _accepted(enqueue(client, "demo.add", ADD))
    assert first.session_cookie() != second.session_cookie()  # two owners
    # A third fresh session from the same address: the budget is spent.
    _throttled(enqueue(third, "demo.add", ADD))
    assert third.get("/api/v1/tasks/").json()["count"] == 0
    # Another address has its own, and a logged-in user is counted per user only.
    _accepted(enqueue(_anonymous(), "demo.add", ADD, headers={"REMOTE_ADDR": "192.0.2.7"}))
    _accepted(enqueue(_logged_in(), "demo.add", ADD))


@pytest.mark.django_db
@override_settings(TASKS_ENQUEUE_ADDRESS_RATE="2/min")
def test_one_ipv6_network_shares_one_enqueue_budget():
    # A host usually holds a whole /64: a new address in it is not a new budget.
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
        _accepted(enqueue(_anonymous(), "demo.add", ADD, headers={"REMOTE_ADDR": host}))
    _throttled(enqueue(_anonymous(), "demo.add", ADD, headers={"REMOTE_ADDR": "2001:db8:1:2::3"}))
    _accepted(enqueue(_anonymous(), "demo.add", ADD, headers={"REMOTE_ADDR": "2001:db8:1:3::1"}))


@pytest.mark.django_db
@override_settings(TASKS_ENQUEUE_RATE="2/min", TASKS_ENQUEUE_ADDRESS_RATE="2/min")
def test_an_enqueue_refused_by_its_address_spends_nothing_of_its_owner_rate():
    def at(host: int) -> dict[str, str]:
        return {"headers": {"REMOTE_ADDR": f"192.0.2.{host}"}}

    # Two anonymous owners, each from an address of its own (a first enqueue counts
    # against the address: the session has no owner before it).
    mine, other = _anonymous(), _anonymous()
    _accepted(enqueue(mine, "demo.add", ADD, **at(1)))
    _accepted(enqueue(other, "demo.add", ADD, **at(2)))
    # At a third address the other owner spends the address's two...
    _accepted(enqueue(other, "demo.add", ADD, **at(3)))
    _accepted(enqueue(other, "demo.add", ADD, **at(3)))
    _throttled(enqueue(mine, "demo.add", ADD, **at(3)))
    # ...which was no enqueue of mine: elsewhere I still have both of my own.
    _accepted(enqueue(mine, "demo.add", ADD, **at(4)))
    _accepted(enqueue(mine, "demo.add", ADD, **at(5)))
    _throttled(enqueue(mine, "demo.add", ADD, **at(6)))


# --- TASKS_MAX_ACTIVE_PER_OWNER ---------------------------------------------------


@pytest.mark.django_db
@override_settings(TASKS_MAX_ACTIVE_PER_OWNER=3)
def test_unfinished_tasks_per_owner_are_limited_scheduled_ones_included():
    client = _logged_in()
    waiting = _accepted(enqueue(client, "demo.add", ADD, countdown=900))
    first = _accepted(enqueue(client, "demo.add", ADD, headers={"HTTP_IDEMPOTENCY_KEY": "k1"}))
    _accepted(enqueue(client, "demo.sleep", {"seconds": 600}))
    _throttled(enqueue(client, "demo.add", ADD), retry_after=ACTIVE_TASK_RETRY_SECONDS)
    # A replay is the first task again, not a new one: the limit does not apply.
    replay = enqueue(client, "demo.add", ADD, headers={"HTTP_IDEMPOTENCY_KEY": "k1"})
    assert replay.status_code == 200 and replay.json()["id"] == first
    # The limit is per owner.
    _accepted(enqueue(_anonymous(), "demo.add", ADD))
    # A finished task frees its place...
    TaskResult.objects.create(task_id=first, status="SUCCESS", result="3")
    fourth = _accepted(enqueue(client, "demo.add", ADD))
    _throttled(enqueue(client, "demo.add", ADD))
    # ...and so does a cancelled one that never started (it is REVOKED).
    TaskRecord.objects.filter(pk=waiting).update(cancel_requested_at=timezone.now())
    _accepted(enqueue(client, "demo.add", ADD))
    _throttled(enqueue(client, "demo.add", ADD))
    # A task still waiting to be published a day later (scheduled, or the broker away)
    # still counts...
    day_ago = timezone.now() - timedelta(hours=25)
    TaskRecord.objects.filter(pk=fourth).update(created_at=day_ago)
    _throttled(enqueue(client, "demo.add", ADD))
    # ...but one published and unfinished a day later lost its message: it counts no more.
    TaskOutbox.objects.filter(pk=fourth).delete()
    _accepted(enqueue(client, "demo.add", ADD))


@pytest.mark.django_db
@override_settings(TASKS_MAX_ACTIVE_PER_OWNER=2)
def test_a_running_task_asked_to_cancel_counts_until_it_ends():
    client = _logged_in()
    running = _accepted(enqueue(client, "demo.sleep", {"seconds": 600}))
    _accepted(enqueue(client, "demo.add", ADD))
    # Claimed by a worker, then cancelled: still running (only a cancel before the start
    # makes it REVOKED at once).
    now = timezone.now()
    TaskRecord.objects.filter(pk=running).update(started_at=now, cancel_requested_at=now)
    TaskResult.objects.create(task_id=running, status="STARTED")
    _throttled(enqueue(client, "demo.add", ADD))
    # The worker stopped it: a final state frees the place.
    TaskResult.objects.filter(task_id=running).update(status="REVOKED")
    _accepted(enqueue(client, "demo.add", ADD))


# --- TASKS_MAIL_DAILY_RECIPIENTS --------------------------------------------------


@pytest.mark.django_db
@override_settings(TASKS_MAIL_DAILY_RECIPIENTS=5)
def test_mail_recipients_per_user_are_limited_per_24_hours():
    user = make_user()
    client = _logged_in(user)
    # The same address twice is one recipient.
    first = _accepted(
        enqueue(client, "mail.send", _mail("a@example.com", "b@ex.com", "A@Example.com"))
    )
    assert TaskMailRecipient.objects.filter(task_id=first).count() == 2
    _accepted(enqueue(client, "mail.send", _mail("c@example.com", "d@example.com")))
    # Four taken, one left: a task with two is refused until the first task's two
    # leave the window, a day after it was enqueued.
    day = int(timedelta(hours=24).total_seconds())
    wait = _throttled(enqueue(client, "mail.send", _mail("e@example.com", "f@example.com")))
    assert day - 60 < wait <= day
    _accepted(enqueue(client, "mail.send", _mail("e@example.com")))
    _throttled(enqueue(client, "mail.send", _mail("g@example.com")))
    # Another user has a budget of their own.
    _accepted(enqueue(_logged_in(), "mail.send", _mail("g@example.com")))
    # The first task was enqueued 23 hours ago: its two are free again in an hour.
    TaskRecord.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(hours=23))
    wait = _throttled(enqueue(client, "mail.send", _mail("g@example.com")))
    assert 3500 < wait <= 3600
    # 25 hours ago: out of the window (three left in it, then four).
    TaskRecord.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(hours=25))
    later = _accepted(enqueue(client, "mail.send", _mail("g@example.com")))
    _throttled(enqueue(client, "mail.send", _mail("h@example.com", "i@example.com")))
    # A task cancelled before it started sent nothing: its recipients come back.
    TaskRecord.objects.filter(pk=later).update(cancel_requested_at=timezone.now())
    _accepted(enqueue(client, "mail.send", _mail("h@example.com", "i@example.com")))
    # More recipients than the whole budget: refused, for the longest wait.
    with override_settings(TASKS_MAIL_DAILY_RECIPIENTS=1):
        wide = _mail("x@example.com", "y@example.com")
        assert _throttled(enqueue(_logged_in(), "mail.send", wide)) == day


# --- Parallel enqueues ------------------------------------------------------------


def _parallel(clients: list[Client], name: str, args: dict) -> list[int]:
    """One enqueue per client, all released at once; their status codes."""
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def post(client: Client) -> None:
        try:
            barrier.wait()
            codes.append(enqueue(client, name, args).status_code)
        finally:
            connections.close_all()  # this thread's own database connection

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(codes)


@pytest.mark.parametrize(
    ("name", "args", "limits", "accepted"),
    [
        ("demo.add", ADD, {"TASKS_ENQUEUE_RATE": "3/min"}, 3),
        ("demo.add", ADD, {"TASKS_MAX_ACTIVE_PER_OWNER": 3}, 3),
        (
            "mail.send",
            _mail("a@example.com", "b@example.com"),
            {"TASKS_MAIL_DAILY_RECIPIENTS": 5},
            2,
        ),
    ],
    ids=["rate", "active", "mail"],
)
def test_parallel_enqueues_of_one_owner_cannot_pass_a_limit(
    transactional_db, published, name, args, limits, accepted
):
    user = make_user()
    clients = [_logged_in(user) for _ in range(8)]
    with override_settings(**limits):
        codes = _parallel(clients, name, args)
    assert codes == [202] * accepted + [429] * (8 - accepted)
    # The answers come before the publishes: the fast path's thread does those.
    assert services.fast_path_flush(timeout=10)
    assert TaskRecord.objects.filter(owner_user=user).count() == accepted == len(published)


# --- TASKS_DISABLED_TYPES ---------------------------------------------------------


@pytest.mark.django_db
@override_settings(TASKS_DISABLED_TYPES=["demo.sleep", "text.stats"])
def test_disabled_types_are_unknown_and_not_listed():
    client = _anonymous()
    response = enqueue(client, "demo.sleep", {"seconds": 1})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unknown_task"
    assert enqueue(client, "text.stats", {"text": "a"}).json()["code"] == "unknown_task"
    names = {item["name"] for item in client.get("/api/v1/tasks/types/").json()}
    assert names == {"demo.add", "demo.fail", "mail.send", "sessions.clear_expired"}
    _accepted(enqueue(client, "demo.add", ADD))
    assert not TaskRecord.objects.exclude(name="demo.add").exists()


@override_settings(TASKS_DISABLED_TYPES=["demo.slep"])
def test_a_misspelt_disabled_type_is_a_warning():
    (warning,) = disabled_types_check(None)
    assert warning.id == "tasks_api.W001"
    assert "'demo.slep'" in warning.msg and "demo.sleep" in warning.hint
    with override_settings(TASKS_DISABLED_TYPES=["demo.sleep"]):
        assert disabled_types_check(None) == []


# --- The byte bound of a list page ------------------------------------------------


def _big_task(user, text: str, created_at) -> str:
    record = TaskRecord(
        name="text.stats", args={"text": text, "top": 10}, owner_user=user, created_at=created_at
    )
    record.celery_result_id = str(record.pk)
    record.save()
    return str(record.pk)


@pytest.mark.django_db
def test_a_list_page_stops_at_the_byte_bound_and_next_goes_on():
    user = make_user()
    # Eleven tasks of 1 MiB arguments each, two of them all control characters, which
    # JSON writes as six bytes each (\u0001): about 21 MiB of JSON in all.
    texts = ["w" * (MIB - 8)] * 9 + ["\x01" * (MIB - 8)] * 2
    start = timezone.now() - timedelta(hours=1)
    ids = [_big_task(user, text, start + timedelta(seconds=n)) for n, text in enumerate(texts)]
    client = _logged_in(user)
    url, pages, seen = "/api/v1/tasks/?page_size=100", [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        assert len(response.content) <= MAX_PAGE_BYTES
        page = json.loads(response.content)
        assert page["count"] == len(ids)
        assert page["results"], "a page holds at least one task"
        pages.append(len(page["results"]))
        seen += [item["id"] for item in page["results"]]
        url = page["next"]
    assert seen == list(reversed(ids))  # newest first, each once
    assert len(pages) >= 3 and all(size < 100 for size in pages)
    # previous goes back page_size tasks; the first page has none.
    second = client.get("/api/v1/tasks/?page_size=2&page=2").json()
    assert [item["id"] for item in second["results"]] == seen[2:4]
    assert _query(second["previous"]) == {"page_size": ["2"]}
    assert _query(second["next"]) == {"page_size": ["2"], "offset": ["4"]}
    assert client.get(second["next"]).json()["results"][0]["id"] == seen[4]


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)
