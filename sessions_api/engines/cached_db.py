"""``SESSION_ENGINE=cached_db``: write-through cache over the database store.

Writes lock the database row and merge onto what the database holds (the cache may
lag a concurrent writer by a moment; the database never does).
"""

from django.contrib.sessions.backends import cached_db

from sessions_api.engines.base import SessionApiStoreMixin
from sessions_api.engines.db import DatabaseLockMixin


class SessionStore(DatabaseLockMixin, SessionApiStoreMixin, cached_db.SessionStore):
    engine_name = "cached_db"
