"""The one mixin every engine's ``SessionStore`` takes, and its contract.

What Django's stores leave to us, done once here:

* **Server-side expiry on every engine.** ``save()`` stamps the absolute expiry time
  (``get_expiry_date()`` at save) into the data under ``EXPIRES_KEY``; ``load()`` treats
  data past that time as no session at all. Django's ``db`` and ``file`` stores already
  check expiry, the ``cache`` store relies on the cache's TTL, and the signed-cookie
  store only checks ``SESSION_COOKIE_AGE`` (Django ticket #19201), so a replayed cookie
  outlived a shorter ``set_expiry()``. With the stamp, all five behave alike.
* **No lost updates.** Django loads the whole dict at the start of a request and
  saves it whole at the end, so two overlapping requests that change different keys of
  one session lose one change. Here ``save()`` first tries a compare-and-set
  (``_save_unchanged_since_load()``: write only if the store still holds what this
  request loaded; ``db``, ``cached_db`` and ``cache`` do it in one statement or script),
  and otherwise takes a per-session lock, reads what is stored now, and applies only
  the keys this request changed (compared with what it loaded) on top. Each server-side
  engine supplies the lock and the fresh read in ``_locked_stored()``: a row lock for
  ``db``/``cached_db``, an atomic lock in the cache for ``cache``, a file lock for
  ``file`` (which yields ``UNCHANGED`` when the file is still what was loaded, sparing
  the decode). ``signed_cookies`` keeps its data in the browser, where the last
  response wins.
* **A fingerprint**: a short, non-secret id of the session (``fingerprint()``) that may
  appear in responses and logs where the session key must not.

An engine module defines ``SessionStore(SessionApiStoreMixin, DjangoStore)`` and may
override ``fingerprint()`` (the signed-cookie store does: its "key" is the whole signed
payload and changes on every write).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

# Bookkeeping keys. They start with "_" like Django's own, so the API never lists,
# counts or lets a client write them.
EXPIRES_KEY = "_sa_exp"
AUTH_USER_KEY = "_auth_user_id"  # django.contrib.auth's SESSION_KEY
FINGERPRINT_LENGTH = 12


def key_hash_of(secret: str) -> str:
    """The SHA-256 (hex) of ``secret``: what the session registry stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def fingerprint_of(secret: str) -> str:
    """The first 12 hex characters of the SHA-256 of ``secret``."""
    return key_hash_of(secret)[:FINGERPRINT_LENGTH]


# What _locked_stored() may yield instead of the stored data: it is what was loaded.
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


class SessionApiStoreMixin:
    """Server-side expiry and fingerprints over one of Django's session stores."""

    #: The short engine name the API reports (``db``, ``file``, ...).
    engine_name: ClassVar[str] = ""
    #: False where the data lives in the browser (``signed_cookies``).
    server_side: ClassVar[bool] = True
    #: The stored form (row text, Redis bytes, file text) as this request read it, for
    #: the engines' compare-and-set; None when unknown (nothing read, or a locked save
    #: has written something else since).
    _loaded_raw: Any = None

    # --- Expiry stamping -----------------------------------------------------------

    def _stamp_expiry(self, data: dict[str, Any]) -> None:
        expiry = self.get_expiry_date(expiry=data.get("_session_expiry"))  # type: ignore[attr-defined]
        data[EXPIRES_KEY] = int(expiry.timestamp())

    @staticmethod
    def is_past_expiry(data: dict[str, Any]) -> bool:
        """True when ``data`` carries an expiry stamp that has passed."""
        stamp = data.get(EXPIRES_KEY)
        return isinstance(stamp, int) and stamp <= time.time()

    def load(self) -> dict[str, Any]:
        data = super().load()  # type: ignore[misc]
        if self.is_past_expiry(data):
            # Delete it (Django's file store keeps a file whose integer expiry has
            # passed, and its clear_expired() relies on load() deleting), and forget
            # the key: the next write starts a new session instead of reviving this one.
            self.delete()  # type: ignore[attr-defined]
            self._session_key = None
            data = {}
        self._loaded = _snapshot(data)
        return data

    def save(self, must_create: bool = False) -> None:
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        snapshot = getattr(self, "_loaded", None)
        if must_create or snapshot is None or not self.server_side or not self.session_key:  # type: ignore[attr-defined]
            self._stamp_expiry(data)
            super().save(must_create=must_create)  # type: ignore[misc]
        elif not self._save_unchanged_since_load(data):
            loaded = json.loads(snapshot)
            with self._locked_stored() as stored:
                if stored is UNCHANGED:
                    pass  # nobody wrote in between: this request's data is the result
                elif stored is not None and not self.is_past_expiry(stored):
                    data = merge_changes(base=loaded, mine=data, theirs=stored)
                    self._session_cache = data
                # A session that is gone stays gone: Django's save raises UpdateError.
                self._stamp_expiry(data)
                super().save(must_create=False)  # type: ignore[misc]
            self._loaded_raw = None  # the store now holds what this save wrote
        self._loaded = _snapshot(data)

    def _save_unchanged_since_load(self, data: dict[str, Any]) -> bool:
        """Write ``data`` only if the store still holds what this request loaded.

        The cheap path of a save (a compare-and-set, no lock, no extra read): engines
        that can do it return True when it went through; False (the default) sends
        the save down the locked merge.
        """
        return False

    @contextmanager
    def _locked_stored(self) -> Iterator[dict[str, Any] | None]:
        """Hold this session's write lock; yield what is stored now (None if gone).

        ``UNCHANGED`` stands for "exactly what this request loaded", for an engine that
        can tell so more cheaply than by decoding the stored data.
        """
        raise NotImplementedError(f"{type(self).__name__} must define _locked_stored()")

    # --- Identity --------------------------------------------------------------------

    def identity(self) -> str | None:
        """The secret the fingerprint is made from: the session key, or None.

        Loads the session first: a cookie naming a session that does not exist (or has
        expired) is no session.
        """
        self._get_session()  # type: ignore[attr-defined]
        return self.session_key or None  # type: ignore[attr-defined]

    def key_hash(self) -> str | None:
        """SHA-256 of ``identity()``: how the session registry knows this session."""
        identity = self.identity()
        return key_hash_of(identity) if identity else None

    def fingerprint(self) -> str | None:
        """A short, non-secret id of this session, or None when there is none."""
        key_hash = self.key_hash()
        return key_hash[:FINGERPRINT_LENGTH] if key_hash else None

    def _renew_identity(self) -> None:
        """Hook for stores whose identity is not the key (signed cookies)."""

    def cycle_key(self) -> None:
        """Django's ``cycle_key()``, telling the registry when a login's key changes."""
        before = self.key_hash()
        self._renew_identity()
        super().cycle_key()  # type: ignore[misc]
        after = self.key_hash()
        if before and after and before != after and self.get(AUTH_USER_KEY):  # type: ignore[attr-defined]
            from sessions_api.registry import user_session_rekey

            user_session_rekey(old_hash=before, session=self)
