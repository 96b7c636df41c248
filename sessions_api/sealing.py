"""Sealing session keys for the login registry (Fernet, keyed from ``SECRET_KEY``).

The registry keeps a server-side session's key only sealed, so that revoking a login
from another device can delete that session from its store; a database dump alone does
not give anyone a usable session key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    """Fernet keys derived from SECRET_KEY (and its fallbacks, to read old rows)."""
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    keys = [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"user-session:{s!s}".encode()).digest()))
        for s in secrets
    ]
    return MultiFernet(keys)


def seal(session_key: str) -> str:
    """``session_key`` encrypted and authenticated."""
    return _fernet().encrypt(session_key.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The key ``seal()`` sealed, or None (empty, tampered, or from a retired secret)."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
