"""On login the anonymous session's tasks pass to the user, and its owner token ends.

The token leaves the session, and it is retired: a copy of the cookie from before the
login (planted in the browser, or any old ``signed_cookies`` cookie, which still
decodes) owns nothing from then on, and what it enqueues afterwards no later login
adopts, the same user's or another's. On every engine; the copies matter on
``signed_cookies``, where the server cannot delete the pre-login session.

Inside a test transaction: a task is recorded and answered 202, and its publish (run
on commit) never happens, so no broker is needed to prove who owns what.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sessions_api.engines.base import key_hash_of
from sessions_api.models import RetiredOwnerToken
from sessions_api.policy import OWNER_KEY
from sessions_api.services import sessions_clear_expired
from tests.factories import make_user
from tests.support.api import login, replay
from tests.support.clients import Client
from tests.support.sessions import store_of

TASKS = "/api/v1/tasks/"


def enqueue(client: Client) -> str:
    response = client.send("POST", TASKS, {"name": "demo.add", "args": {"a": 1, "b": 2}})
    assert response.status_code == 202, response.content
    return response.json()["id"]


def task_ids(client: Client) -> set[str]:
    response = client.get(TASKS)
    assert response.status_code == 200, response.content
    return {task["id"] for task in response.json()["results"]}


def test_login_adopts_the_tasks_and_takes_the_owner_token_out(client, engine):
    task = enqueue(client)
    assert isinstance(store_of(client.session_cookie()).load().get(OWNER_KEY), str)
    login(client, make_user())
    assert task_ids(client) == {task}
    assert OWNER_KEY not in store_of(client.session_cookie()).load()


def test_register_takes_the_owner_token_out_too(client, engine):
    task = enqueue(client)
    body = {"username": "newcomer", "password": "correct horse battery staple 9"}
    assert client.send("POST", "/api/v1/auth/register/", body).status_code == 201
    assert OWNER_KEY not in store_of(client.session_cookie()).load()
    client.csrf()
    assert task_ids(client) == {task}


def test_a_pre_login_cookie_owns_nothing_that_a_later_login_adopts(make_client, engine):
    ana, bob = make_user(), make_user()
    victim = make_client()
    adopted = enqueue(victim)
    before_login = victim.session_cookie()
    login(victim, ana)

    # A copy of the pre-login cookie: anonymous, and its token owns nothing any more.
    thief = replay(Client, before_login)
    thief.csrf()
    assert task_ids(thief) == set()
    later = enqueue(thief)
    assert task_ids(thief) == {later}  # under a token of its own, not the retired one

    # Neither a new login of the same session nor a login from another copy of the
    # pre-login cookie takes over what the copy enqueued.
    login(victim, ana)
    assert task_ids(victim) == {adopted}
    other_copy = replay(Client, before_login)
    other_copy.csrf()
    login(other_copy, bob)
    assert task_ids(other_copy) == set()
    assert task_ids(thief) == {later}


def test_retired_tokens_are_kept_as_long_as_a_cookie_can_live(settings, db):
    RetiredOwnerToken.objects.retire(token="recent")
    RetiredOwnerToken.objects.retire(token="old")
    lived = timedelta(seconds=settings.SESSION_API_MAX_EXPIRY_SECONDS + 60)
    RetiredOwnerToken.objects.filter(token_hash=key_hash_of("old")).update(
        retired_at=timezone.now() - lived
    )
    sessions_clear_expired()
    assert RetiredOwnerToken.objects.is_retired(token="recent")
    assert not RetiredOwnerToken.objects.is_retired(token="old")
