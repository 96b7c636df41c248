"""``SESSION_ENGINE=signed_cookies``: the data lives in the browser, signed.

Two things differ from Django's store:

* Expiry is read from the stamp inside the signed payload (see ``engines.base``), so a
  replayed cookie is refused once its own ``set_expiry()`` has passed, and a custom
  expiry longer than ``SESSION_COOKIE_AGE`` is honoured instead of cut short.
* The fingerprint comes from a random id kept in the payload (``SID_KEY``) and renewed
  by ``cycle_key()``: the cookie value itself changes on every write. The id is given
  when data is first written (so the response that creates a session can name it),
  never when it is read. It is the store's, not the data's: ``load()`` takes it out of
  the payload and the cookie written puts it back, so the session's keys, ``items()``
  and what ``cycle_key()`` keeps are the data alone, as with Django's store.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import signed_cookies
from django.core import signing

from sessions_api.engines.base import EXPIRES_KEY, ApiSessionStore

SID_KEY = "_sa_sid"
SALT = "django.contrib.sessions.backends.signed_cookies"
# What a browser keeps of one cookie, name and value together (RFC 6265's minimum,
# less the "=" and a margin some browsers count against it).
COOKIE_LIMIT_BYTES = 4093


class SessionStore(ApiSessionStore, signed_cookies.SessionStore):
    engine_name = "signed_cookies"
    server_side = False
    cookie_limit_bytes = COOKIE_LIMIT_BYTES
    #: The session id (``SID_KEY`` in the cookie), None until data is first written.
    _sid: str | None = None

    def load(self) -> dict[str, Any]:
        self._sid = None
        try:
            data = signing.loads(
                self.session_key or "", serializer=self.serializer, salt=SALT, max_age=None
            )
            if EXPIRES_KEY not in data:
                # A cookie from before the stamp existed: Django's own age check.
                data = signing.loads(
                    self.session_key or "",
                    serializer=self.serializer,
                    salt=SALT,
                    max_age=self.get_session_cookie_age(),
                )
        except Exception:
            # Bad signature, expired timestamp or garbage: no session (as Django does).
            self._session_key = None
            return {}
        if self.is_past_expiry(data):
            self._session_key = None
            return {}
        data.pop(EXPIRES_KEY, None)  # the store's, not the session's (see stamped())
        sid = data.pop(SID_KEY, None)
        self._sid = sid if isinstance(sid, str) else None
        return data

    def _get_session_key(self) -> str:
        # Django's (the cookie value a save writes), with the session id in the payload.
        return self._sign(self._cookie_payload(self._session, sid=self._give_sid()))

    def _sign(self, payload: dict[str, Any]) -> str:
        return signing.dumps(payload, compress=True, salt=SALT, serializer=self.serializer)

    def _give_sid(self) -> str:
        if self._sid is None:
            self._sid = secrets.token_hex(16)
        return self._sid

    # Every write of data goes through one of these two (SessionBase's setdefault and
    # set_expiry use __setitem__): the session gets its id with its first data.
    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._give_sid()

    def update(self, dict_: Any) -> None:  # type: ignore[override]  # SessionBase's own signature
        super().update(dict_)
        self._give_sid()

    def delete(self, session_key: str | None = None) -> None:
        # flush() (logout) ends the session, and its id with it.
        super().delete(session_key)
        self._sid = None

    def renew_identity(self) -> None:
        self._get_session()  # loaded first, or the load would bring the old id back
        self._sid = secrets.token_hex(16)

    def identity(self) -> str | None:
        self._get_session()
        return self._sid

    @staticmethod
    def _cookie_payload(data: dict[str, Any], *, sid: str = "0" * 32) -> dict[str, Any]:
        """What the cookie carries: ``data``, then the session id (or one of its length)."""
        return {**data, SID_KEY: sid}

    def cookie_bytes_upper_bound(self, data: dict[str, Any]) -> int:
        """At least ``projected_cookie_bytes(data)``, from the JSON length alone.

        The cookie value is base64 of the JSON (or of its zlib form, only when shorter),
        a "." for compression, then ":" + timestamp + ":" + a 43-character signature.
        """
        payload = self._cookie_payload(data)
        payload[EXPIRES_KEY] = 10**10  # the widest stamp for centuries (order: no matter)
        raw = len(self.serializer().dumps(payload))
        return len(str(settings.SESSION_COOKIE_NAME)) + 1 + 1 + -(-raw * 4 // 3) + 1 + 13 + 1 + 43

    def projected_cookie_bytes(self, data: dict[str, Any]) -> int:
        """Bytes of ``name=value`` for the cookie that would carry ``data`` if saved now."""
        # Stamped as save() stamps it, before the id is added.
        value = self._sign(self._cookie_payload(self.stamped(data)))
        return len(str(settings.SESSION_COOKIE_NAME)) + 1 + len(value)
