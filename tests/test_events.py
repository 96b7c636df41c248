"""Live events end to end: gunicorn (ASGI, as configured), a Celery worker, Redis.

Each browser is an httpx client (tests/sse.py) holding its cookies across its calls and
its streams. The servers share one SQLite file and an event-store prefix of this run
(``EVENTS_KEY_PREFIX``), which this process uses too to publish or trim events itself.
Waits have deadlines (failures), never timing assertions.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.test import override_settings

from sessions_api.events.hub import FAILED, Subscription, hub
from sessions_api.events.slots import SlotKeeper, slot_ttl
from sessions_api.events.store import (
    EventStoreUnavailable,
    async_client,
    event_publish,
    owner_channel,
    session_channel,
    slot_release,
    slot_take,
    slots_key,
)
from sessions_api.events.stream import channel_tag
from tests.namespace import (
    REDIS_DB,
    REDIS_PORT,
    TEMP_DIR,
    delete_cache_keys,
    queue_name,
    service_key_prefix,
)
from tests.servers import (
    LOG_DIR,
    TcpProxy,
    celery_worker,
    delete_queue,
    free_port,
    gunicorn_command,
    manage,
    service_env,
    start_process,
    stop_process,
    wait_until_healthy,
)
from tests.support.sse import Browser, Event, finished, task_events

pytestmark = [pytest.mark.integration, pytest.mark.standalone, pytest.mark.timeout(240)]

REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}"


@pytest.fixture(scope="module")
def events_env(redis_server: None, rabbitmq_server: None) -> Iterator[dict[str, str]]:
    queue = queue_name("events")
    prefix = service_key_prefix()
    database = TEMP_DIR / f"events-{uuid.uuid4().hex[:8]}.sqlite3"
    env = service_env(
        DATABASE_URL=f"sqlite:///{database}",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        EVENTS_REDIS_URL=REDIS_URL,
        EVENTS_KEY_PREFIX=f"{prefix}:events",
        EVENTS_HEARTBEAT_SECONDS="1",
        EVENTS_MAX_STREAMS_PER_SESSION="3",
        # Every test registers its own users, all from 127.0.0.1.
        REGISTER_THROTTLE_RATE="1000/hour",
    )
    manage("migrate", "--noinput", env=env)
    try:
        with celery_worker(env, queue=queue, name="events"):
            yield env
    finally:
        delete_queue(queue)
        delete_cache_keys(prefix)


@contextmanager
def server(env: dict[str, str], *, workers: int = 1) -> Iterator[tuple[str, object]]:
    """gunicorn as configured (no application argument: the configuration's ASGI app);
    yields its base URL and process (for signals)."""
    port = free_port()
    log = LOG_DIR / f"gunicorn-events-{port}-{time.time_ns()}.log"
    process = start_process(
        gunicorn_command(port, "--workers", str(workers), "--timeout", "60"), env=env, log=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base)
        yield base, process
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def web(events_env: dict[str, str]) -> Iterator[str]:
    with server(events_env, workers=2) as (base, _):
        yield base


def browser(base: str) -> Browser:
    made = Browser(base)
    made.fetch_csrf()
    return made


def statuses(tasks: list[dict]) -> list[str]:
    return [task["status"] for task in tasks]


def assert_one_run(tasks: list[dict], steps: int) -> None:
    """Every status change and progress report of one run, in order, none twice."""
    progress = [task["progress"]["current"] for task in tasks if task["status"] == "PROGRESS"]
    assert progress == list(range(1, steps + 1)), statuses(tasks)
    assert statuses(tasks)[-1] == "SUCCESS"
    assert "STARTED" in statuses(tasks)
    assert statuses(tasks).index("STARTED") < statuses(tasks).index("PROGRESS")


def ids_in_order(events: list[Event]) -> None:
    ids = [event.id for event in events]
    assert len(set(ids)) == len(ids), ids


# --- A task, from the stream ---------------------------------------------------------


def test_own_task_goes_from_pending_to_success_on_the_stream(web):
    ana = browser(web)
    with ana.stream() as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        task = ana.enqueue("demo.sleep", {"seconds": 0.6, "steps": 3})
        events = stream.until(finished(task["id"]))
        assert stream.retry == 3000
    tasks = task_events(events, task["id"])
    assert statuses(tasks)[0] == "PENDING"
    assert_one_run(tasks, steps=3)
    # Each event's data is the task exactly as polling renders it.
    polled = ana.request("GET", task["url"]).json()
    assert tasks[-1] == polled
    assert all(event.id for event in events)
    ids_in_order(events)


def test_heartbeats_keep_an_idle_stream_open(web):
    ana = browser(web)
    with ana.stream() as stream:
        first = stream.response.iter_lines()
        seen = []
        for line in first:
            seen.append(line)
            if seen.count(": keep-alive") >= 2:
                break
    assert seen[0].startswith("retry:")


def test_two_owners_never_see_each_others_events(web):
    ana, bob = browser(web), browser(web)
    bob.register(f"bob{uuid.uuid4().hex[:8]}")
    with ana.stream() as ana_stream, bob.stream() as bob_stream:
        ana_task = ana.enqueue("demo.add", {"a": 1, "b": 2})
        bob_task = bob.enqueue("demo.add", {"a": 3, "b": 4})
        ana_events = ana_stream.until(finished(ana_task["id"]))
        bob_events = bob_stream.until(finished(bob_task["id"]))
    assert {t["id"] for t in task_events(ana_events)} == {ana_task["id"]}
    assert {t["id"] for t in task_events(bob_events)} == {bob_task["id"]}
    # Another owner's task cannot even be asked for.
    with bob.stream(task=ana_task["id"]) as refused:
        assert refused.response.status_code == 404
        refused.response.read()
        assert refused.response.headers["content-type"] == "application/problem+json"
        assert refused.response.json()["code"] == "not_found"


def test_task_parameter_narrows_the_stream_to_one_task(web):
    ana = browser(web)
    first = ana.enqueue("demo.sleep", {"seconds": 1.5, "steps": 3})
    with ana.stream(task=first["id"]) as stream:
        other = ana.enqueue("demo.add", {"a": 1, "b": 1})
        events = stream.until(finished(first["id"]))
    assert {t["id"] for t in task_events(events)} == {first["id"]}
    assert other["id"] != first["id"]


def test_anonymous_tasks_follow_the_login_onto_the_users_stream(web):
    ana, eve = browser(web), browser(web)
    eve.register(f"eve{uuid.uuid4().hex[:8]}")
    with eve.stream() as eve_stream:
        with ana.stream() as anonymous:
            task = ana.enqueue("demo.sleep", {"seconds": 3, "steps": 6})
            anonymous.until(lambda e: e.event == "task" and e.data["status"] == "PROGRESS")
            ana.register(f"ana{uuid.uuid4().hex[:8]}")
            ended = anonymous.rest()
        # The login rotated the key: the anonymous stream ends, saying so.
        assert [e.event for e in ended][-1] == "session"
        assert ended[-1].data["reason"] == "rotated"
        # EventSource reconnects with the new cookie and the last id it saw.
        with ana.stream(last_event_id=ended[-1].id) as as_user:
            events = as_user.until(finished(task["id"]))
        assert statuses(task_events(events, task["id"]))[-1] == "SUCCESS"
        # Eve's stream, open the whole time, saw none of it.
        marker = eve.enqueue("demo.add", {"a": 0, "b": 0})
        eve_events = eve_stream.until(finished(marker["id"]))
    assert task["id"] not in {t["id"] for t in task_events(eve_events)}


# --- Resuming --------------------------------------------------------------------------


def test_last_event_id_replays_what_was_missed_in_order_none_twice(web):
    ana = browser(web)
    with ana.stream() as watcher:  # a second tab, open the whole time: the reference
        with ana.stream() as stream:
            task = ana.enqueue("demo.sleep", {"seconds": 1.5, "steps": 5})
            before = stream.until(lambda e: e.event == "task" and e.data["status"] == "PROGRESS")
        # Disconnected while the task goes on, and ends.
        everything = watcher.until(finished(task["id"]))
    with ana.stream(last_event_id=before[-1].id) as resumed:
        after = resumed.until(finished(task["id"]))
    assert "reset" not in [e.event for e in after]
    joined = before + after
    ids_in_order(joined)
    assert task_events(joined, task["id"]) == task_events(everything, task["id"])
    assert_one_run(task_events(joined, task["id"]), steps=5)


def test_a_last_event_id_older_than_what_is_kept_answers_reset(web, events_env):
    ana = browser(web)
    user = ana.register(f"old{uuid.uuid4().hex[:8]}")
    settings = {
        "EVENTS_REDIS_URL": REDIS_URL,
        "EVENTS_KEY_PREFIX": events_env["EVENTS_KEY_PREFIX"],
        "EVENTS_MAX_PER_OWNER": 5,
    }
    with override_settings(**settings):
        channel = owner_channel(user_id=user["id"])
        session_tag = ":0-0"
        ids = [
            event_publish(channel=channel, event="note", data=f'{{"n":{n}}}')
            for n in range(400)  # trimming is approximate (MAXLEN ~): whole nodes go
        ]
    oldest = f"{channel_tag(channel)}:{ids[0]}.{session_tag}"
    with ana.stream(last_event_id=oldest) as stream:
        first = stream.next()
    assert first is not None and first.event == "reset", first
    # A position that is still kept replays from there, without a reset.
    recent = f"{channel_tag(channel)}:{ids[-3]}.{session_tag}"
    with ana.stream(last_event_id=recent) as stream:
        replayed = [stream.next(), stream.next()]
    assert [e.event for e in replayed] == ["note", "note"]
    assert [e.data["n"] for e in replayed] == [398, 399]


# --- Session events --------------------------------------------------------------------


@pytest.fixture(scope="module", params=["db", "signed_cookies", "cached_db"])
def engine_web(request, events_env) -> Iterator[str]:
    with server({**events_env, "SESSION_ENGINE": request.param}) as (base, _):
        yield base


def logged_in_pair(base: str) -> tuple[Browser, Browser, str]:
    """Two browsers logged in as one new user; returns them and the first's session id."""
    first = browser(base)
    username = f"dev{uuid.uuid4().hex[:8]}"
    first.register(username)
    second = browser(base)
    response = second.request(
        "POST",
        "/api/v1/auth/login/",
        {"username": username, "password": "events passphrase 4412"},
    )
    assert response.status_code == 200, response.text
    second.csrf = second.client.cookies.get("csrftoken")
    return first, second, first.request("GET", "/api/v1/session/").json()["id"]


def ending(stream) -> Event:
    events = stream.rest()
    assert events, "the stream ended without a word"
    assert events[-1].event == "session", events
    return events[-1]


def test_logout_ends_the_stream_with_logout(engine_web):
    ana, _, session_id = logged_in_pair(engine_web)
    with ana.stream() as stream:
        assert ana.request("POST", "/api/v1/auth/logout/").status_code == 204
        event = ending(stream)
    assert event.data == {"id": session_id, "reason": "logout"}


def test_revoked_from_another_device_ends_the_stream_with_revoked(engine_web):
    ana, other_device, session_id = logged_in_pair(engine_web)
    with ana.stream() as stream:
        response = other_device.request("DELETE", f"/api/v1/auth/sessions/{session_id}/")
        assert response.status_code == 204
        event = ending(stream)
    assert event.data == {"id": session_id, "reason": "revoked"}
    # Reconnecting with the revoked cookie and the last id does not repeat it: the
    # stream goes on, anonymous (its next event is a task of the new anonymous owner).
    with ana.stream(last_event_id=event.id) as again:
        assert again.response.status_code == 200
        task = ana.enqueue("demo.add", {"a": 1, "b": 1})
        events = again.until(finished(task["id"]))
    assert "session" not in [e.event for e in events]


def test_a_stream_opened_after_the_revocation_still_hears_of_it(engine_web):
    ana, other_device, session_id = logged_in_pair(engine_web)
    response = other_device.request("DELETE", f"/api/v1/auth/sessions/{session_id}/")
    assert response.status_code == 204
    with ana.stream() as stream:  # the tab was offline; it has the old cookie
        event = ending(stream)
    assert event.data == {"id": session_id, "reason": "revoked"}


def test_password_change_elsewhere_ends_the_stream_with_password_changed(engine_web):
    ana, other_device, session_id = logged_in_pair(engine_web)
    with ana.stream() as stream, other_device.stream() as own:
        response = other_device.request(
            "POST",
            "/api/v1/auth/password/",
            {"old_password": "events passphrase 4412", "new_password": "another one 5521 x"},
        )
        assert response.status_code == 204, response.text
        event = ending(stream)
        own_event = ending(own)
    assert event.data == {"id": session_id, "reason": "password_changed"}
    # The session that changed it stays logged in under a new key.
    assert own_event.data["reason"] == "rotated"


def test_flush_ends_the_stream_with_flushed(engine_web):
    ana, _, session_id = logged_in_pair(engine_web)
    with ana.stream() as stream:
        assert ana.request("DELETE", "/api/v1/session/").status_code == 204
        event = ending(stream)
    assert event.data == {"id": session_id, "reason": "flushed"}


def test_cycle_ends_the_stream_with_rotated(engine_web):
    ana = browser(engine_web)
    ana.request("PUT", "/api/v1/session/keys/k/", {"value": 1})
    old_id = ana.request("GET", "/api/v1/session/").json()["id"]
    with ana.stream() as stream:
        assert ana.request("POST", "/api/v1/session/cycle/").status_code == 200
        event = ending(stream)
    assert event.data == {"id": old_id, "reason": "rotated"}


def test_expiry_ends_the_stream_with_expired(engine_web):
    ana = browser(engine_web)
    ana.register(f"exp{uuid.uuid4().hex[:8]}")
    assert ana.request("PUT", "/api/v1/session/expiry/", {"seconds": 2}).status_code == 200
    session_id = ana.request("GET", "/api/v1/session/").json()["id"]
    with ana.stream() as stream:
        event = ending(stream)
    assert event.data == {"id": session_id, "reason": "expired"}


# --- Failure modes ---------------------------------------------------------------------


def test_beyond_the_streams_a_session_may_open_the_answer_is_429(web):
    ana = browser(web)
    ana.request("PUT", "/api/v1/session/keys/k/", {"value": 1})
    with ana.stream() as one, ana.stream() as two, ana.stream() as three:
        assert {s.response.status_code for s in (one, two, three)} == {200}
        with ana.stream() as fourth:
            assert fourth.response.status_code == 429
            fourth.response.read()
            assert fourth.response.json()["code"] == "throttled"
            assert int(fourth.response.headers["Retry-After"]) > 0
    # Closed streams free their places (as soon as the server has seen them close).
    deadline = time.monotonic() + 10
    while True:
        with ana.stream() as again:
            if again.response.status_code == 200:
                break
        assert time.monotonic() < deadline, "a closed stream kept its place"
        time.sleep(0.2)


def test_a_stream_busy_with_events_keeps_its_place_counted(web, events_env):
    # Events more often than the heartbeat, for longer than a place lasts unrefreshed
    # (3 heartbeats + 5 s): the streams must still count, so a fourth is refused.
    ana = browser(web)
    user = ana.register(f"busy{uuid.uuid4().hex[:8]}")
    settings = {"EVENTS_REDIS_URL": REDIS_URL, "EVENTS_KEY_PREFIX": events_env["EVENTS_KEY_PREFIX"]}
    heartbeat = int(events_env["EVENTS_HEARTBEAT_SECONDS"])
    with ana.stream() as one, ana.stream() as two, ana.stream() as three:
        assert {s.response.status_code for s in (one, two, three)} == {200}
        with override_settings(**settings):
            channel = owner_channel(user_id=user["id"])
            until = time.monotonic() + 3 * heartbeat + 5 + 2
            while time.monotonic() < until:
                event_publish(channel=channel, event="note", data="{}")
                time.sleep(heartbeat / 4)
        with ana.stream() as fourth:
            assert fourth.response.status_code == 429


def test_streams_opening_at_once_on_a_fresh_process_all_go_live(events_env):
    # The first streams of a process arrive together: each must be subscribed (and
    # so reach its heartbeat) on the process's one pub/sub connection, none ending
    # with an error because another was connecting it at the same moment.
    with server(events_env) as (base, _):
        owners = [browser(base) for _ in range(3)]
        tabs = [owner.use(base) for owner in owners for _ in range(3)]
        start = threading.Barrier(len(tabs))

        def open_one(tab: Browser) -> int:
            start.wait(timeout=30)
            with tab.stream() as stream:
                if stream.response.status_code == 200:
                    # Fails if the stream ends first (its error event, then the end).
                    stream.heartbeat()
                return stream.response.status_code

        with ThreadPoolExecutor(len(tabs)) as pool:
            assert list(pool.map(open_one, tabs)) == [200] * len(tabs)


def test_with_the_event_store_down_the_stream_is_503_and_the_api_works(events_env):
    proxy = TcpProxy(REDIS_PORT)
    env = {**events_env, "EVENTS_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}"}
    try:
        with server(env) as (base, _):
            ana = browser(base)
            with ana.stream() as stream:
                assert stream.response.status_code == 200
                stream.heartbeat()  # live, not still replaying
                proxy.cut()
                events = stream.rest()  # an open stream ends with an error event
            assert events[-1].event == "error"
            assert events[-1].data["code"] == "unavailable"
            with ana.stream() as refused:
                assert refused.response.status_code == 503
                refused.response.read()
                assert refused.response.headers["content-type"] == "application/problem+json"
                assert refused.response.json()["code"] == "unavailable"
            # The rest of the API keeps working, tasks included (their events are lost).
            assert ana.request("PUT", "/api/v1/session/keys/k/", {"value": 2}).status_code == 201
            task = ana.enqueue("demo.add", {"a": 2, "b": 2})
            assert ana.request("GET", task["url"]).status_code == 200
            proxy.restore()
            with ana.stream() as back:
                assert back.response.status_code == 200
    finally:
        proxy.cut()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["hup", "term"])
def test_a_graceful_restart_ends_streams_and_a_reconnect_loses_nothing(events_env, sig):
    with server(events_env) as (a_base, a_process), server(events_env) as (b_base, _):
        ana = browser(a_base)
        with ana.stream() as stream:
            task = ana.enqueue("demo.sleep", {"seconds": 3, "steps": 6})
            before = stream.until(lambda e: e.event == "task" and e.data["status"] == "PROGRESS")
            os.kill(a_process.pid, sig)  # type: ignore[attr-defined]
            before += stream.rest()  # ends cleanly: no exception, no error event
        assert "error" not in [e.event for e in before]
        # Reconnect (HUP: the same server, new workers; TERM: another instance).
        target = a_base if sig == signal.SIGHUP else b_base
        with ana.use(target).stream(last_event_id=before[-1].id) as resumed:
            after = resumed.until(finished(task["id"]))
    joined = before + after
    ids_in_order(joined)
    assert_one_run(task_events(joined, task["id"]), steps=6)


def test_session_channel_of_another_session_is_not_readable_by_guessing(web, events_env):
    # A stream follows only the channels of its own cookie: publishing to some other
    # session's channel reaches nobody else.
    ana = browser(web)
    with ana.stream() as stream:
        with override_settings(
            EVENTS_REDIS_URL=REDIS_URL, EVENTS_KEY_PREFIX=events_env["EVENTS_KEY_PREFIX"]
        ):
            event_publish(
                channel=session_channel(key_hash="0" * 64),
                event="session",
                data='{"id":"000000000000","reason":"revoked"}',
            )
        task = ana.enqueue("demo.add", {"a": 5, "b": 5})
        events = stream.until(finished(task["id"]))
    assert "session" not in [e.event for e in events]


def test_a_subscribe_while_the_reader_waits_does_not_read_the_connection(events_env):
    """The first stream after the last one left (the pub/sub connection now follows no
    channel) and long enough for redis-py's health check: redis-py would PING before
    the subscribe and read the answer from the connection the hub's reader is waiting
    on; asyncio refuses a second reader, and the hub failed, every stream with it."""

    async def scenario() -> bool:
        first, second = Subscription(["a"]), Subscription(["b"])
        current = hub()
        await current.subscribe(first)
        await current.unsubscribe(first)
        for _ in range(50):  # until Redis has confirmed: nothing followed any more
            if not current.pubsub.subscribed:
                break
            await asyncio.sleep(0.02)
        connection = current.pubsub.connection
        assert connection is not None and not current.pubsub.subscribed
        connection.next_health_check = 0  # as after 30 s without traffic
        try:
            await current.subscribe(second)
            await current.unsubscribe(second)
        except EventStoreUnavailable:
            pass
        failed = current.failed
        if current.reader is not None:
            current.reader.cancel()
        await current.client.aclose()
        return failed

    with override_settings(
        EVENTS_REDIS_URL=REDIS_URL, EVENTS_KEY_PREFIX=events_env["EVENTS_KEY_PREFIX"]
    ):
        assert asyncio.run(scenario()) is False


def test_the_process_keeps_its_streams_places_with_one_refresh_and_frees_none_released(
    events_env,
):
    """One refresh renews every place the process holds (two sessions here) and leaves a
    released place released; when the store does not take it, those streams end."""
    keys: list[str] = []

    async def kept() -> None:
        keys.extend(slots_key(holder=f"keeper-{uuid.uuid4().hex[:8]}") for _ in range(2))
        places = [(keys[0], "s1"), (keys[0], "s2"), (keys[1], "s3"), (keys[1], "gone")]
        client = async_client()
        for key, stream_id in places:
            assert await slot_take(client, key=key, stream_id=stream_id, ttl=5, limit=5)
        await slot_release(client, key=keys[1], stream_id="gone")
        before = {s: await client.zscore(k, s) for k, s in places}
        keeper = SlotKeeper()
        inboxes = {s: Subscription([]) for _, s in places}
        for key, stream_id in places:
            keeper.hold(key=key, stream_id=stream_id, subscription=inboxes[stream_id])
        await keeper.refresh()
        after = {s: await client.zscore(k, s) for k, s in places}
        for stream_id in ("s1", "s2", "s3"):
            assert after[stream_id] >= before[stream_id] + slot_ttl() - 5 - 1, stream_id
            assert inboxes[stream_id].queue.empty()
        assert before["gone"] is None and after["gone"] is None
        assert await client.ttl(keys[0]) > 5
        for key in keys:
            await client.delete(key)
        await client.aclose()

    async def refused() -> None:
        keeper = SlotKeeper()
        inbox = Subscription([])
        keeper.hold(key=keys[0], stream_id="s1", subscription=inbox)
        proxy.cut()
        await keeper.refresh()
        assert inbox.queue.get_nowait() is FAILED
        assert keeper.places == {}

    prefix = events_env["EVENTS_KEY_PREFIX"]
    with override_settings(EVENTS_REDIS_URL=REDIS_URL, EVENTS_KEY_PREFIX=prefix):
        asyncio.run(kept())
    proxy = TcpProxy(REDIS_PORT)
    try:
        url = f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}"
        with override_settings(EVENTS_REDIS_URL=url, EVENTS_KEY_PREFIX=prefix):
            asyncio.run(refused())
    finally:
        proxy.cut()
