"""``SESSION_ENGINE=db``: Django's database store with the API contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.sessions.backends import db
from django.db import router, transaction
from django.db.models import Func, Q, TextField
from django.db.models.lookups import Exact
from django.utils import timezone

from sessions_api.engines.base import ApiSessionStore
from sessions_api.engines.django_internals import session_row

# What the cached_db compare-and-set compares after a read from the cache: the last
# characters of the row's text. Django stores the data signed ("<data>:<timestamp>:
# <signature>", the signature an HMAC of the rest), so two different texts end alike
# only by an HMAC collision; the cache then keeps 64 characters beside the data instead
# of the whole text. Where the text itself is at hand (the db engine, which has just
# read it) the UPDATE compares the whole of it: a plain equality is cheaper to build
# than the expression, and shipping the text costs the database next to nothing.
SIGNATURE_CHARS = 64


def signature_of(text: str) -> str:
    """The characters of a stored text the compare-and-set compares (its signature)."""
    return text[-SIGNATURE_CHARS:]


class _Signature(Func):
    """``signature_of()`` in SQL: the last SIGNATURE_CHARS characters of a text column."""

    arity = 1
    output_field = TextField()
    template = f"RIGHT(%(expressions)s, {SIGNATURE_CHARS})"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = f"SUBSTR(%(expressions)s, -{SIGNATURE_CHARS})"
        return self.as_sql(compiler, connection, template=template, **extra)

    as_oracle = as_sqlite


class RawRowStore(db.SessionStore):
    """Django's database store, keeping the row's text as this request read it."""

    _loaded_raw: Any = None

    def load(self) -> dict[str, Any]:
        # Django's load() is exactly this, minus keeping the text for the save.
        row = session_row(self)
        self._loaded_raw = row.session_data if row is not None else None
        return self.decode(row.session_data) if row is not None else {}


class DatabaseLockMixin(ApiSessionStore, db.SessionStore):
    """The write lock is the session's row (``SELECT ... FOR UPDATE``).

    On SQLite, where there are no row locks, the IMMEDIATE transaction mode the
    settings choose takes the database write lock at BEGIN, which serializes the same.

    Before taking it, a save tries a compare-and-set: one UPDATE of the row on the
    condition that it still holds what this request read. Without a concurrent writer
    (nearly always) that is the whole save, the same one statement as Django's; with
    one, it updates nothing and the locked merge runs.

    The row's ``expire_date`` is the expiry stamp (see ``engines.base``).
    """

    stamps_expiry = False
    #: What was read when the stored form was not the row itself (a cache entry): the
    #: row's text, or only its signature.
    _loaded_text: str | None = None
    _loaded_signature: str | None = None

    def unchanged(self) -> Q | Exact | None:
        """The condition on the row that it still holds what this request read or last
        wrote: its whole text where known, else its signature; None if neither is."""
        raw = self._loaded_raw
        text = raw if isinstance(raw, str) else self._loaded_text
        if text is not None:
            return Q(session_data=text)
        if self._loaded_signature is not None:
            return Exact(_Signature("session_data"), self._loaded_signature)
        return None

    def save_if_unchanged(self, data: dict[str, Any]) -> bool:
        condition = self.unchanged()
        if condition is None or not self.session_key:
            return False  # no stored form was read (a new session, or an old-style cache entry)
        obj = self.create_model_instance(self.stamped(data))
        model = self.model
        # Every column, as Django's save() writes them: a custom session model's
        # create_model_instance() may fill more than the data and the expiry.
        columns = {
            field.attname: getattr(obj, field.attname)
            for field in model._meta.concrete_fields
            if not field.primary_key
        }
        updated = (
            model.objects.using(router.db_for_write(model))
            .filter(condition, session_key=obj.session_key)
            .update(**columns)
        )
        if updated:
            self._loaded_raw = obj.session_data
            self._after_fast_save(data)
        return bool(updated)

    def _after_fast_save(self, data: dict[str, Any]) -> None:
        """Hook: ``cached_db`` refreshes its cache here."""

    @contextmanager
    def locked_stored(self) -> Iterator[dict[str, Any] | None]:
        model = self.model
        using = router.db_for_write(model)
        with transaction.atomic(using=using):
            row = (
                model.objects.using(using)
                .select_for_update()
                .filter(session_key=self.session_key, expire_date__gt=timezone.now())
                .only("session_data")
                .first()
            )
            yield self.decode(row.session_data) if row else None


class SessionStore(DatabaseLockMixin, RawRowStore):
    engine_name = "db"
