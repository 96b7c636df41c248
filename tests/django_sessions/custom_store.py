"""Django's custom-model session store (``sessions_tests.models``) built on our ``db`` engine.

A module of its own so that it can be a ``SESSION_ENGINE`` (``clearsessions``); imported
only once ``sessions_tests`` is importable and installed (see ``conftest.py``).
"""

from sessions_tests import models

from sessions_api.engines import db


class SessionStore(db.SessionStore, models.SessionStore):
    """Ours first: the contract runs, then Django's test store picks the model and age."""
