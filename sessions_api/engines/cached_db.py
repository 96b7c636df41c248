"""``SESSION_ENGINE=cached_db``: write-through cache over the database store."""

from django.contrib.sessions.backends import cached_db

from sessions_api.engines.base import SessionApiStoreMixin


class SessionStore(SessionApiStoreMixin, cached_db.SessionStore):
    engine_name = "cached_db"
