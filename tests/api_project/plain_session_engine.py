"""A ``SESSION_ENGINE`` whose store is Django's own, not built on ApiSessionStore.

The app refuses it at start-up (``tests/api_project/test_settings.py``).
"""

from django.contrib.sessions.backends.db import SessionStore

__all__ = ["SessionStore"]
