"""Django's own session tests, run on each of our five stores.

Each class here is Django's test class (``sessions_tests/tests.py`` of the installed
Django version, see ``conftest.py``) with ``backend`` set to our ``SessionStore``. Where
our store deliberately differs from Django's, the one Django test concerned is marked
as an expected failure below, with the reason; where Django's own class gives a test
up for its store and ours passes it, the test is restored.
"""

from __future__ import annotations

import pytest

from tests.django_sessions.conftest import FETCH_ERROR, WITH_TEST_APP
from tests.support.clients import need

if FETCH_ERROR is not None:

    def test_django_session_tests_are_available():
        need(False, FETCH_ERROR)

else:
    from django.test import override_settings

    from sessions_api.engines import cache, cached_db, db, file, signed_cookies

    with WITH_TEST_APP:  # the custom session model belongs to Django's test app
        from sessions_tests import tests as django

        from tests.django_sessions import custom_store

    @pytest.mark.usefixtures("redis_server")  # inherited: each subclass is marked
    class NeedsRedis:
        """The cache engines run on the real Redis (the suite's CACHE_URL), as in production."""

    # --- db ---------------------------------------------------------------------------

    class Db:
        backend = db.SessionStore
        session_engine = "sessions_api.engines.db"

    class DatabaseSessionTests(Db, django.DatabaseSessionTests):
        pass

    class DatabaseSessionWithTimeZoneTests(Db, django.DatabaseSessionWithTimeZoneTests):
        pass

    @WITH_TEST_APP
    class CustomDatabaseSessionTests(django.CustomDatabaseSessionTests):
        backend = custom_store.SessionStore
        session_engine = "tests.django_sessions.custom_store"

    # --- cached_db --------------------------------------------------------------------

    class CacheDBSessionTests(NeedsRedis, django.CacheDBSessionTests):
        backend = cached_db.SessionStore

    class CacheDBSessionWithTimeZoneTests(NeedsRedis, django.CacheDBSessionWithTimeZoneTests):
        backend = cached_db.SessionStore

    # --- file -------------------------------------------------------------------------

    class File:
        """Each test gets its own SESSION_FILE_PATH (Django's setUp); forget it after.

        Django's file store caches the folder on the class (``_storage_path``) and its
        setUp drops only the backend's own copy: drop every copy before and after, so
        that neither these tests nor the rest of the suite use a deleted folder.
        """

        backend = file.SessionStore

        def setUp(self):
            self.forget_storage_path()
            super().setUp()

        def tearDown(self):
            super().tearDown()
            self.forget_storage_path()

        def forget_storage_path(self):
            for klass in self.backend.__mro__:
                if "_storage_path" in vars(klass):
                    delattr(klass, "_storage_path")

        # Django's test runs clearsessions on Django's store; this runs it on ours.
        @override_settings(SESSION_ENGINE="sessions_api.engines.file", SESSION_COOKIE_AGE=0)
        def test_clearsessions_command(self):
            django.FileSessionTests.test_clearsessions_command.__wrapped__(self)

    class FileSessionTests(File, django.FileSessionTests):
        pass

    class FileSessionPathLibTests(File, django.FileSessionPathLibTests):
        pass

    # --- cache ------------------------------------------------------------------------

    class CacheSessionTests(NeedsRedis, django.CacheSessionTests):
        backend = cache.SessionStore

    # --- signed_cookies ---------------------------------------------------------------

    class CookieSessionTests(django.CookieSessionTests):
        backend = signed_cookies.SessionStore

        # Django gives these up for its cookie store, which ignores a custom expiry
        # (ticket #19201); ours keeps the expiry in the signed payload and passes them.
        test_actual_expiry = django.SessionTestsMixin.test_actual_expiry
        test_actual_expiry_async = django.SessionTestsMixin.test_actual_expiry_async
        # And these, as its cycle_key() may write the very same cookie again; ours
        # renews the session id in the payload, so the cookie (the key) changes and the
        # data stays.
        test_cycle = django.SessionTestsMixin.test_cycle
        test_cycle_async = django.SessionTestsMixin.test_cycle_async
