"""Expired sessions are cleared from the store and from the registry; live ones stay."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.utils import timezone

from sessions_api.models import UserSession
from sessions_api.services import sessions_clear_expired
from tests.factories import make_user

COUNT = 1000


def _make_sessions(store_class, *, seconds: int) -> list[str]:
    keys = []
    for index in range(COUNT):
        session = store_class()
        session["n"] = index
        session.set_expiry(seconds)
        session.save()
        keys.append(session.session_key)
    return keys


@pytest.mark.django_db
@pytest.mark.parametrize("engine_name", ["db", "file"])
def test_clear_expired_leaves_exactly_the_live_sessions(engine_name, tmp_path, monkeypatch):
    module = f"sessions_api.engines.{engine_name}"
    with override_settings(SESSION_ENGINE=module, SESSION_FILE_PATH=str(tmp_path)):
        store = import_module(module).SessionStore
        # Django's file store caches its directory on the class: point it at ours
        # (monkeypatch puts the class back as it was afterwards).
        monkeypatch.setattr(store, "_storage_path", str(tmp_path), raising=False)
        _make_sessions(store, seconds=1)
        live = _make_sessions(store, seconds=3600)
        time.sleep(1.1)  # the first thousand are past their expiry now
        user = make_user()
        now = timezone.now()
        for index in range(20):
            UserSession.objects.create(
                user=user,
                key_hash=f"{index:064x}",
                engine=engine_name,
                last_seen_at=now,
                expires_at=now + timedelta(hours=1) if index < 10 else now - timedelta(seconds=1),
            )

        removed = sessions_clear_expired()

        if engine_name == "db":
            remaining = set(Session.objects.values_list("session_key", flat=True))
        else:
            prefix = settings.SESSION_COOKIE_NAME
            remaining = {
                name.removeprefix(prefix)
                for name in os.listdir(tmp_path)
                if name.startswith(prefix)
            }
        assert remaining == set(live), (len(remaining), len(set(live) & remaining))
        assert removed == 10
        assert UserSession.objects.count() == 10
        for key in live[:5]:
            assert store(session_key=key)["n"] is not None
