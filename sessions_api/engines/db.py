"""``SESSION_ENGINE=db``: Django's database store with the API mixin."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.sessions.backends import db
from django.db import router, transaction
from django.utils import timezone

from sessions_api.engines.base import SessionApiStoreMixin


class DatabaseLockMixin:
    """The write lock is the session's row (``SELECT ... FOR UPDATE``).

    On SQLite, where there are no row locks, the IMMEDIATE transaction mode the
    settings choose takes the database write lock at BEGIN, which serializes the same.
    """

    @contextmanager
    def _locked_stored(self) -> Iterator[dict[str, Any] | None]:
        model = self.model  # type: ignore[attr-defined]
        using = router.db_for_write(model)
        with transaction.atomic(using=using):
            row = (
                model.objects.using(using)
                .select_for_update()
                .filter(session_key=self.session_key, expire_date__gt=timezone.now())  # type: ignore[attr-defined]
                .only("session_data")
                .first()
            )
            yield self.decode(row.session_data) if row else None  # type: ignore[attr-defined]


class SessionStore(DatabaseLockMixin, SessionApiStoreMixin, db.SessionStore):
    engine_name = "db"
