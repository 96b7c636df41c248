"""The embedded default holds load: two gunicorn workers writing SQLite at once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.servers import LOG_DIR, HttpSession, gunicorn, manage, service_env

pytestmark = [pytest.mark.integration, pytest.mark.standalone]


def test_two_workers_writing_sessions_never_hit_database_is_locked(tmp_path):
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", SESSION_ENGINE="db")
    manage("migrate", "--noinput", env=env)
    # In the run's log folder, with every other server log, for the log check too.
    log = LOG_DIR / f"gunicorn-sqlite-concurrency-{uuid.uuid4().hex[:8]}.log"
    statuses: list[int] = []
    with gunicorn(env, workers=2, log=log) as base:

        def browser(index: int) -> list[int]:
            session = HttpSession(base)
            session.fetch_csrf()
            seen = []
            for step in range(15):
                status, _, _ = session.request(
                    "PUT", f"/api/v1/session/keys/k{step}/", {"value": [index, step]}
                )
                seen.append(status)
            status, body, _ = session.request("GET", "/api/v1/session/keys/")
            seen.append(status if len(body) == 15 else -1)
            return seen

        with ThreadPoolExecutor(max_workers=16) as pool:
            for result in pool.map(browser, range(32)):
                statuses.extend(result)
    text = log.read_text()
    assert "database is locked" not in text
    assert statuses.count(201) == 32 * 15, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count(200) == 32
    print(f"\nSQLite under 2 gunicorn workers: {len(statuses)} requests, all 2xx")
