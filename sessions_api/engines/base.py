"""The one mixin every engine's ``SessionStore`` takes, and its contract.

What Django's stores leave to us, done once here:

* **Server-side expiry on every engine.** ``save()`` stamps the absolute expiry time
  (``get_expiry_date()`` at save) into the data it writes under ``EXPIRES_KEY``;
  ``load()`` treats data past that time as no session at all, and otherwise takes the
  stamp out (the session's own dict never holds it). The signed-cookie store only checks
  ``SESSION_COOKIE_AGE`` (Django ticket #19201), so a replayed cookie outlived a shorter
  ``set_expiry()``; the file store judges a file by its age, and never expires one with
  a custom expiry in seconds; the ``cache`` store relies on the cache's TTL. With the
  stamp, all five behave alike. The ``db`` and ``cached_db`` rows keep the same time in
  their ``expire_date``, which Django checks on every read (and so do our locked read
  and compare-and-set): they write no stamp (``stamps_expiry = False``), so a row's
  ``Session.get_decoded()`` is the data alone, as with Django's store.
* **A hard end.** A session may carry ``ENDS_KEY``, a time it must not outlive whatever
  its expiry says (a login's absolute lifetime: the login flow sets it). Every expiry
  the store computes, the cookie's ``Max-Age``, a row's ``expire_date``, a cache TTL and
  the stamp above, is capped at it (``get_expiry_age()``/``get_expiry_date()``), and
  ``load()`` treats data past it like data past its expiry.
* **No lost updates.** Django loads the whole dict at the start of a request and
  saves it whole at the end, so two overlapping requests that change different keys of
  one session lose one change. Here ``save()`` first tries a compare-and-set
  (``save_if_unchanged()``: write only if the store still holds what this
  request loaded; ``db``, ``cached_db`` and ``cache`` do it in one statement or script),
  and otherwise takes a per-session lock, reads what is stored now, and applies only
  the keys this request changed (compared with what it loaded) on top. Each server-side
  engine supplies the lock and the fresh read in ``locked_stored()``: a row lock for
  ``db``/``cached_db``, an atomic lock in the cache for ``cache``, a file lock for
  ``file`` (which yields ``UNCHANGED`` when the file is still what was loaded, sparing
  the decode). ``signed_cookies`` keeps its data in the browser, where the last
  response wins.
* **No per-request work that grows with the session beyond Django's own.** What the
  merge compares with ("what this request loaded") is the stored form as it was read
  (row text, file text, Redis bytes), which the engine has in hand anyway: it is
  decoded again only when a merge actually runs, so a read-only request does exactly
  Django's one decode and no encode, and an uncontended save exactly Django's encode.
  After a save the base is what that save wrote (Django's ``encode()`` output, kept as
  it is made). Only where the engine cannot tell its stored form (a cache other than
  Redis, or nothing stored yet) is a JSON copy of the data kept instead.
* **A size kept with the data** (``known_size()``, ``note_size()``): the API notes the
  size of the client data it has just measured; an engine that can store it with the
  data (``cache``, in its version) gives it back to the next request, which then
  measures only the key it changes. It holds for exactly the keys and values (by
  identity) it was noted for: any key set, replaced or removed since, or a merge,
  forgets it, and the API measures the whole session again.
* **A fingerprint**: a short, non-secret id of the session (``fingerprint()``) that may
  appear in responses and logs where the session key must not.

``ApiSessionStore`` is the contract, declared once (like the block of methods Django's
``SessionBase`` asks of a backend): what an engine is called, where its data lives, how
it is identified, its cookie budget, and the two hooks of a save (compare-and-set, and
the locked read). An engine module defines ``SessionStore(ApiSessionStore, DjangoStore)``
(the order matters: ours runs first, then Django's); ``store_check()`` in this package
refuses, at start-up, a configured store that does not.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.sessions.backends.base import SessionBase
from django.dispatch import Signal
from django.utils import timezone

# Bookkeeping keys. They start with "_" like Django's own, so the API never lists,
# counts or lets a client write them.
EXPIRES_KEY = "_sa_exp"
# The Unix time this session ends at the latest, whatever its expiry (see "A hard end").
ENDS_KEY = "_sa_end"
FINGERPRINT_LENGTH = 12


def key_hash_of(secret: str) -> str:
    """The SHA-256 (hex) of ``secret``: what the session registry stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# Sent by cycle_key() with old_hash= (the key hash before) when a session's key
# changed; the login registry listens, so a login follows its session to the new key
# whichever flow rotated it (login, update_session_auth_hash, the cycle endpoint).
session_key_cycled = Signal()

# What locked_stored() may yield instead of the stored data: it is what was loaded.
UNCHANGED: Any = object()


def _snapshot(data: dict[str, Any]) -> str:
    # Session data is JSON (SESSION_SERIALIZER): a JSON string is a cheaper deep copy.
    return json.dumps(data, separators=(",", ":"))


def merge_changes(
    *, base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Any]:
    """Apply what changed from ``base`` to ``mine`` onto ``theirs``.

    Keys this request set (new or different values) win; keys it deleted are deleted;
    everything else is as stored now, including other requests' changes.
    """
    merged = dict(theirs)
    for key, value in mine.items():
        if key not in base or base[key] != value:
            merged[key] = value
    for key in base:
        if key not in mine:
            merged.pop(key, None)
    return merged


class ApiSessionStore(SessionBase):
    """The contract of an engine, and what every engine shares (expiry, merge, ids).

    An engine sets ``engine_name`` and, where its data is stored on the server,
    implements ``save_if_unchanged()`` (optional: the default sends every save down the
    locked merge) and ``locked_stored()``, keeps ``_loaded_raw`` as its ``load()`` reads
    it, and overrides ``stored_data()``/``written_form()`` when its stored form is not
    the text of Django's ``encode()``. An engine that keeps its data in the browser
    sets ``server_side = False`` and ``cookie_limit_bytes``, and implements
    ``cookie_bytes_upper_bound()`` and ``projected_cookie_bytes()``.
    """

    #: The short engine name the API reports (``db``, ``file``, ...).
    engine_name: ClassVar[str] = ""
    #: False where the data lives in the browser (``signed_cookies``): no lock, no
    #: merge, and revoking a login cannot delete the data, only its registry row.
    server_side: ClassVar[bool] = True
    #: The cookie budget, in bytes of ``name=value``, for an engine whose data is the
    #: cookie; None for a server-side engine, whose cookie is only the key.
    cookie_limit_bytes: ClassVar[int | None] = None
    #: The keys the engine itself keeps in the data (never the client's, and not
    #: "data" for ``is_empty``).
    bookkeeping_keys: ClassVar[frozenset[str]] = frozenset({EXPIRES_KEY, ENDS_KEY})
    #: False where the store keeps the expiry time itself and checks it on every read
    #: (the ``db`` row's ``expire_date``): ``save()`` then writes no ``EXPIRES_KEY``.
    stamps_expiry: ClassVar[bool] = True
    #: The stored form (row text, Redis bytes, file text) as this request last read or
    #: wrote it: what the engines' compare-and-set compares with, and the base of the
    #: locked merge. None when unknown.
    _loaded_raw: Any = None
    #: The base of the locked merge as JSON text, kept only while ``_loaded_raw`` is
    #: unknown.
    _loaded: str | None = None
    #: Whether this request has a base at all (it has loaded or saved the session).
    _has_base: bool = False
    #: The text of the last ``encode()``: what Django's db and file stores write.
    _encoded: str | None = None
    #: The size noted for the data (note_size()), and the items it holds for: a shallow
    #: copy, compared by identity of the values. The engine sets _size on load.
    _size: int | None = None
    _size_basis: dict[str, Any] | None = None
    #: The size a save in progress stores with the data (None: none is known).
    _size_to_write: int | None = None

    if TYPE_CHECKING:
        # SessionBase's protected API for stores, which django-stubs does not declare.
        _session: dict[str, Any]

        def _get_session(self, no_load: bool = False) -> dict[str, Any]: ...

    # --- What an engine implements ---------------------------------------------------

    def save_if_unchanged(self, data: dict[str, Any]) -> bool:
        """Write ``data`` only if the store still holds what this request loaded.

        The cheap path of a save (a compare-and-set, no lock, no extra read): engines
        that can do it return True when it went through; False (the default) sends
        the save down the locked merge.
        """
        return False

    @contextmanager
    def locked_stored(self) -> Iterator[dict[str, Any] | None]:
        """Hold this session's write lock; yield what is stored now (None if gone).

        ``UNCHANGED`` stands for "exactly what this request loaded", for an engine that
        can tell so more cheaply than by decoding the stored data.
        """
        raise NotImplementedError(f"{type(self).__name__} must define locked_stored()")
        yield None  # pragma: no cover - makes this a generator, as the contract reads

    def stored_data(self, raw: Any) -> dict[str, Any]:
        """The session data ``raw`` (a ``_loaded_raw``) holds: Django's ``decode()``.

        Called only when a merge runs; an engine whose stored form is not Django's
        encoded text overrides it.
        """
        return SessionBase.decode(self, raw)

    def written_form(self) -> Any:
        """The stored form of what Django's ``save()`` has just written, or None.

        Django's db and file stores write the text of ``encode()``; an engine that
        stores something else, and cannot tell what cheaply, returns None (the base of
        a later merge in the same request is then a JSON copy).
        """
        return self._encoded

    def known_size(self) -> int | None:
        """The size last noted for exactly the data this store holds now, or None.

        Noted by ``note_size()`` in this request, or by the save that wrote what was
        loaded, where the engine keeps it with the data. Loads the session first.
        """
        data = self._get_session()
        basis = self._size_basis
        if self._size is None or basis is None or len(basis) != len(data):
            return None
        for key, value in data.items():
            if basis.get(key, basis) is not value:
                return None
        return self._size

    def note_size(self, size: int) -> None:
        """Keep ``size`` for the data as it is now (the API's measure of it)."""
        self._size, self._size_basis = size, dict(self._get_session())

    def cookie_bytes_upper_bound(self, data: dict[str, Any]) -> int:
        """At least ``projected_cookie_bytes(data)``, cheaply (cookie engines only)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no data in its cookie")

    def projected_cookie_bytes(self, data: dict[str, Any]) -> int:
        """Bytes of ``name=value`` for the cookie that would carry ``data`` (cookie engines)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no data in its cookie")

    def identity(self) -> str | None:
        """The secret the fingerprint is made from: the session key, or None.

        Loads the session first: a cookie naming a session that does not exist (or has
        expired) is no session. Never writes.
        """
        self._get_session()
        return self.session_key or None

    def renew_identity(self) -> None:
        """Called by ``cycle_key()``: hook for stores whose identity is not the key."""

    # --- Expiry stamping -------------------------------------------------------------

    def stamped(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` as it is stored: a copy with the expiry stamp, where the engine stamps.

        The stamp goes into what is written, never into the session's own dict (``load()``
        takes it out again): the data a request holds is what was set, the same after a
        save, a reload or a second save a second later (``cycle_key()``).
        """
        if not self.stamps_expiry:
            return data
        expiry = self.get_expiry_date(expiry=data.get("_session_expiry"))
        return {**data, EXPIRES_KEY: int(expiry.timestamp())}

    @staticmethod
    def is_past_expiry(data: dict[str, Any]) -> bool:
        """True when ``data`` carries an expiry stamp or a hard end that has passed."""
        now = time.time()
        for key in (EXPIRES_KEY, ENDS_KEY):
            stamp = data.get(key)
            if isinstance(stamp, int) and stamp <= now:
                return True
        return False

    # --- The hard end ----------------------------------------------------------------

    def ends_at(self) -> int | None:
        """``ENDS_KEY`` of the data already loaded (Unix time), or None.

        Never loads: Django's stores ask for the expiry inside ``load()`` itself
        (``cached_db``, for the cache's timeout), and promise not to load when given it.
        """
        data = getattr(self, "_session_cache", None)
        ends = data.get(ENDS_KEY) if isinstance(data, dict) else None
        return ends if isinstance(ends, int) and not isinstance(ends, bool) else None

    def get_expiry_age(self, **kwargs: Any) -> int:
        age: int = super().get_expiry_age(**kwargs)
        ends = self.ends_at()
        if ends is None:
            return age
        modification = kwargs.get("modification") or timezone.now()
        return max(0, min(age, math.floor(ends - modification.timestamp())))

    def get_expiry_date(self, **kwargs: Any) -> datetime:
        date: datetime = super().get_expiry_date(**kwargs)
        ends = self.ends_at()
        if ends is None:
            return date
        limit = datetime.fromtimestamp(ends, tz=UTC)
        if timezone.is_naive(date):  # USE_TZ = False
            limit = timezone.make_naive(limit)
        return min(date, limit)

    def encode(self, session_dict: dict[str, Any]) -> str:
        self._encoded = super().encode(session_dict)
        return self._encoded

    def load(self) -> dict[str, Any]:
        self._loaded_raw = None  # the engine's load() sets it when it reads a stored form
        self._size = None  # and _size, when it keeps one with the data
        data: dict[str, Any] = super().load()
        if self.is_past_expiry(data):
            # Delete it (Django's file store keeps a file whose integer expiry has
            # passed, and its clear_expired() relies on load() deleting), and forget
            # the key: the next write starts a new session instead of reviving this one.
            self.delete()
            self._session_key = None
            self._loaded_raw = self._size = None
            data = {}
        data.pop(EXPIRES_KEY, None)  # the store's, not the session's (see stamped())
        self._keep_base(data)
        self._size_basis = dict(data) if self._size is not None else None
        return data

    def save(self, must_create: bool = False) -> None:
        data = self._get_session(no_load=must_create)
        # Decided before the stamp changes the data (the stamp is no client key).
        self._size_to_write = self.known_size()
        if must_create or not self._has_base or not self.server_side or not self.session_key:
            self._write_stamped(data, must_create=must_create)
        elif not self.save_if_unchanged(data):
            with self.locked_stored() as stored:
                if stored is UNCHANGED:
                    pass  # nobody wrote in between: this request's data is the result
                elif stored is not None and not self.is_past_expiry(stored):
                    data = merge_changes(base=self._base(), mine=data, theirs=stored)
                    data.pop(EXPIRES_KEY, None)
                    self._session_cache = data
                    self._size_to_write = None  # what was measured is not what is written
                # A session that is gone stays gone: Django's save raises UpdateError.
                self._write_stamped(data, must_create=False)
        self._keep_base(data)
        self._size, self._size_basis = self._size_to_write, dict(data)

    def _write_stamped(self, data: dict[str, Any], *, must_create: bool) -> None:
        """``_write()`` of ``data`` with its stamp: Django's ``save()`` reads the session
        from ``_session_cache``, which holds the stamped copy only while it writes."""
        self._session_cache = self.stamped(data)
        try:
            self._write(must_create=must_create)
        finally:
            self._session_cache = data

    def _write(self, *, must_create: bool) -> None:
        """Django's ``save()``; then ``_loaded_raw`` is what it wrote (if known)."""
        self._encoded = None
        super().save(must_create=must_create)
        self._loaded_raw = self.written_form()

    def _keep_base(self, data: dict[str, Any]) -> None:
        """``data`` is what the store holds now: the base of a later merge.

        Its stored form, when the engine has it (just read or written), costs nothing;
        otherwise a JSON copy is kept (a deep copy: values may be changed in place).
        """
        if not self.server_side:
            return  # no merge: the browser keeps the data
        self._has_base = True
        self._loaded = None if self._loaded_raw is not None else _snapshot(data)

    def _base(self) -> dict[str, Any]:
        """What this request loaded (or last saved): decoded only for a merge."""
        if self._loaded_raw is not None:
            return self.stored_data(self._loaded_raw)
        return json.loads(self._loaded or "{}")

    # --- Identity --------------------------------------------------------------------

    def key_hash(self) -> str | None:
        """SHA-256 of ``identity()``: how the session registry knows this session."""
        identity = self.identity()
        return key_hash_of(identity) if identity else None

    def fingerprint(self) -> str | None:
        """A short, non-secret id of this session, or None when there is none."""
        key_hash = self.key_hash()
        return key_hash[:FINGERPRINT_LENGTH] if key_hash else None

    def cycle_key(self) -> None:
        """Django's ``cycle_key()``, renewing the identity with the key.

        Announces the change (``session_key_cycled``) instead of acting on it: what
        follows a session's key (the login registry) listens.
        """
        before = self.key_hash()
        self.renew_identity()
        super().cycle_key()
        if before and before != self.key_hash():
            session_key_cycled.send(sender=type(self), session=self, old_hash=before)
