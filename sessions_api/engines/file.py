"""``SESSION_ENGINE=file``: one file per session under ``SESSION_FILE_PATH``."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.sessions.backends import file

from sessions_api.engines.base import UNCHANGED, ApiSessionStore
from sessions_api.engines.django_internals import session_file

# Writers lock one of a fixed set of lock files, chosen by the session key, instead of
# one lock file per session (which would double the files in the directory, the reason
# Django's file store does not lock at all).
LOCK_STRIPES = 64


@functools.cache
def _lock_dir(storage_path: str) -> str:
    """The lock files' folder, created once per process rather than on every save."""
    path = os.path.join(storage_path, ".locks")
    os.makedirs(path, exist_ok=True)
    return path


class SessionStore(ApiSessionStore, file.SessionStore):
    engine_name = "file"
    _loaded_raw: str | None = None

    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        # Django's load() passes the file's text here: keep it, so that a save can see
        # whether the file changed since without decoding it again (_read_stored), and
        # as the base of a merge.
        self._loaded_raw = session_data if isinstance(session_data, str) else None
        return super().decode(session_data)

    @contextmanager
    def locked_stored(self) -> Iterator[dict[str, Any] | None]:
        lock_dir = _lock_dir(self.storage_path)
        key = (self.session_key or "").encode()
        stripe = int(hashlib.sha256(key).hexdigest()[:8], 16) % LOCK_STRIPES
        with open(os.path.join(lock_dir, f"{stripe}.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield self._read_stored()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_stored(self) -> dict[str, Any] | None:
        try:
            with open(session_file(self), encoding="ascii") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        if raw and raw == self._loaded_raw:
            return UNCHANGED
        # Django's decode, not ours: what was loaded stays the base of the merge.
        return super().decode(raw) if raw else {}
