"""``SESSION_ENGINE=file``: one file per session under ``SESSION_FILE_PATH``."""

from django.contrib.sessions.backends import file

from sessions_api.engines.base import SessionApiStoreMixin


class SessionStore(SessionApiStoreMixin, file.SessionStore):
    engine_name = "file"
