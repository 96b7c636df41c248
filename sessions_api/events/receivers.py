"""Receivers that announce session events: every logout, and every change of key.

Connected in ``SessionsApiConfig.ready()``. ``user_logged_out`` is sent before Django
flushes the session, so the session is still known by its old identity here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from sessions_api.engines import ApiSessionStore, api_session
from sessions_api.engines.base import session_key_cycled
from sessions_api.events.sessions import current_end_reason, session_event_publish


@receiver(user_logged_out, dispatch_uid="sessions_api.events.logged_out")
def announce_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_event_publish(key_hash=api_session(request).key_hash(), reason=current_end_reason())


@receiver(session_key_cycled, dispatch_uid="sessions_api.events.key_cycled")
def announce_rotation(sender: Any, session: ApiSessionStore, old_hash: str, **kwargs: Any) -> None:
    session_event_publish(key_hash=old_hash, reason="rotated")
