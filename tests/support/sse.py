"""A browser for the live-event tests: JSON calls and Server-Sent Event streams (httpx).

One ``Browser`` keeps its cookies (the session, the CSRF token) across plain requests
and streams, as a browser does; ``Stream`` reads ``text/event-stream`` line by line into
events (comments skipped, ``retry:`` noted). Every cookie and token it sees is noted for
the run's log check (tests/servers.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.servers import remember_secret

STREAM_PATH = "/api/v1/events/"
PASSWORD = "events passphrase 4412"


@dataclass
class Event:
    id: str | None
    event: str
    data: Any


class Stream:
    """One open event stream; iterate it for events, None at its end."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.retry: int | None = None
        self.comments = 0
        self._lines = response.iter_lines()
        self.ended = False

    def next(self, deadline: float | None = None) -> Event | None:
        """The next event, or None when the server ended the stream; past ``deadline``
        (a ``time.monotonic()`` value, checked at each line, heartbeats included), fail."""
        fields: dict[str, str] = {}
        for line in self._lines:
            if deadline is not None and time.monotonic() > deadline:
                raise AssertionError("no event before the deadline")
            if line == "":
                if "data" in fields or "event" in fields:
                    return Event(
                        id=fields.get("id"),
                        event=fields.get("event", "message"),
                        data=json.loads(fields["data"]) if "data" in fields else None,
                    )
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry = int(value)
            else:
                fields[name] = value
        self.ended = True
        return None

    def heartbeat(self, *, seconds: float = 30) -> None:
        """Read up to the next comment line: the stream is past its replay, live."""
        deadline = time.monotonic() + seconds
        for line in self._lines:
            if line.startswith(":"):
                self.comments += 1
                return
            if line.startswith("retry:"):
                self.retry = int(line.partition(":")[2])
            assert time.monotonic() < deadline, "no heartbeat before the deadline"
        raise AssertionError("the stream ended before a heartbeat")

    def until(self, done: Callable[[Event], bool], *, seconds: float = 30) -> list[Event]:
        """Events up to and including the first for which ``done`` is true."""
        deadline = time.monotonic() + seconds
        events: list[Event] = []
        while time.monotonic() < deadline:
            event = self.next(deadline)
            if event is None:
                raise AssertionError(f"the stream ended before the awaited event: {events}")
            events.append(event)
            if done(event):
                return events
        raise AssertionError(f"no awaited event within {seconds} s: {events}")

    def rest(self) -> list[Event]:
        """Every event until the server ends the stream."""
        events = []
        deadline = time.monotonic() + 60
        while (event := self.next(deadline)) is not None:
            events.append(event)
        return events


class Browser:
    """Cookies, CSRF token and JSON over httpx, against one server (``use`` moves it)."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=15))
        self.csrf: str | None = None

    def use(self, base: str) -> Browser:
        """The same browser (cookies, token) talking to another instance."""
        other = Browser(base)
        other.client.cookies = self.client.cookies
        other.csrf = self.csrf
        return other

    def _note(self, response: httpx.Response) -> None:
        for value in self.client.cookies.values():
            remember_secret(value)
        if "csrftoken" in response.cookies:
            self.csrf = response.cookies["csrftoken"]

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"X-CSRFToken": self.csrf} if self.csrf else {}
        response = self.client.request(
            method, path, headers=headers, json=body if body is not None else None
        )
        self._note(response)
        return response

    def fetch_csrf(self) -> None:
        response = self.request("GET", "/api/v1/auth/csrf/")
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]
        remember_secret(self.csrf)

    def register(self, username: str, password: str = PASSWORD) -> dict:
        if self.csrf is None:
            self.fetch_csrf()
        response = self.request(
            "POST", "/api/v1/auth/register/", {"username": username, "password": password}
        )
        assert response.status_code == 201, response.text
        self.csrf = self.client.cookies.get("csrftoken") or self.csrf
        return response.json()

    def enqueue(self, name: str, args: dict[str, Any]) -> dict:
        if self.csrf is None:
            self.fetch_csrf()
        response = self.request("POST", "/api/v1/tasks/", {"name": name, "args": args})
        assert response.status_code == 202, response.text
        return response.json()

    def stream(
        self, *, last_event_id: str | None = None, task: str | None = None
    ) -> _StreamContext:
        return _StreamContext(self, last_event_id=last_event_id, task=task)


class _StreamContext:
    def __init__(self, browser: Browser, *, last_event_id: str | None, task: str | None) -> None:
        self.browser = browser
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self._manager = browser.client.stream(
            "GET", STREAM_PATH, headers=headers, params={"task": task} if task else None
        )

    def __enter__(self) -> Stream:
        response = self._manager.__enter__()
        self.browser._note(response)
        return Stream(response)

    def __exit__(self, *exc: Any) -> None:
        self._manager.__exit__(*exc)


def task_events(events: list[Event], task_id: str | None = None) -> list[dict]:
    return [
        e.data for e in events if e.event == "task" and (task_id is None or e.data["id"] == task_id)
    ]


def finished(task_id: str) -> Callable[[Event], bool]:
    """``until`` predicate: this task's event in a final state."""
    return lambda event: (
        event.event == "task"
        and event.data["id"] == task_id
        and event.data["status"] in {"SUCCESS", "FAILURE", "REVOKED"}
    )


def all_finished(task_ids: list[str]) -> Callable[[Event], bool]:
    """``until`` predicate: every one of these tasks has had its final event."""
    waiting = set(task_ids)

    def done(event: Event) -> bool:
        for task_id in list(waiting):
            if finished(task_id)(event):
                waiting.discard(task_id)
        return not waiting

    return done
