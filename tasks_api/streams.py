"""What one event stream of the caller follows: its owner's channel and its session's.

``event_stream_prepare`` runs before the response starts (synchronously, with the same
session store, login registry check and owner rules as every other request): it finds
the caller's owner (a logged-in user, or else the session's owner token, which an
anonymous caller gets here as on its first task, so that a task enqueued after the
stream opened is on it), checks ``?task=`` (another owner's id is ``404``), and names
the channels. The stream itself is ``sessions_api.events.stream``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from sessions_api.engines import api_session
from sessions_api.events.expiry import session_expiry_check
from sessions_api.events.sessions import session_claimed_hash
from sessions_api.events.store import StoredEvent, owner_channel, session_channel, slots_key
from sessions_api.events.stream import StreamSpec
from sessions_api.middleware import login_check, login_check_finish
from sessions_api.services import session_identity_ensure
from tasks_api.events import TASK_EVENT
from tasks_api.selectors import task_get, task_owner
from tasks_api.services import task_owner_ensure


def _only_task(task_id: str) -> Any:
    def accept(event: StoredEvent) -> bool:
        if event.event != TASK_EVENT:
            return True
        try:
            return str(json.loads(event.data)["id"]) == task_id
        except (ValueError, KeyError, TypeError):
            return False

    return accept


def event_stream_prepare(
    *, request: HttpRequest, task_id: str | None, last_event_id: str | None
) -> StreamSpec:
    """The channels of the caller's stream; ``404`` for a ``task_id`` not theirs."""
    claimed = session_claimed_hash(cookie=request.COOKIES.get(str(settings.SESSION_COOKIE_NAME)))
    # What the API's views do once DRF has authenticated: who the caller is, and a
    # login whose registry row is gone (revoked, logged out elsewhere) ended at once,
    # before the session's owner token is read or given.
    user = login_check(request).user
    login_check_finish(request)
    session = api_session(request)
    accept = None
    if task_id is not None:
        record = task_get(owner=task_owner(user=user, session=session), task_id=task_id)
        accept = _only_task(str(record.pk))
    owner = task_owner_ensure(user=user, session=session)
    session_identity_ensure(session=session)
    key_hash = session.key_hash()
    assert key_hash is not None  # an identity was just ensured
    session_key = session.session_key if session.server_side else None
    opened = timezone.now()

    async def expiry_check() -> float | None:
        return await sync_to_async(session_expiry_check)(
            session_key=session_key, key_hash=key_hash, since=opened
        )

    current = session_channel(key_hash=key_hash)
    previous = session_channel(key_hash=claimed) if claimed and claimed != key_hash else None
    spec = StreamSpec(
        owner=owner_channel(user_id=owner.user_id, token=owner.token),
        session=current,
        previous_session=previous,
        last_event_id=last_event_id,
        slots_key=slots_key(holder=key_hash),
        stream_id=uuid.uuid4().hex,
        expires_at=session.get_expiry_date().timestamp(),
        expiry_check=expiry_check,
        fingerprint=session.fingerprint(),
    )
    if accept is not None:
        spec.accept = accept
    return spec
