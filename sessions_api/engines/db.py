"""``SESSION_ENGINE=db``: Django's database store with the API mixin."""

from django.contrib.sessions.backends import db

from sessions_api.engines.base import SessionApiStoreMixin


class SessionStore(SessionApiStoreMixin, db.SessionStore):
    engine_name = "db"
