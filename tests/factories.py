"""Test data factories."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery staple 9"
_counter = itertools.count(1)


def make_user(*, username: str | None = None, password: str = PASSWORD, **extra: Any) -> Any:
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(
        username=username, password=password, email=f"{username}@example.com", **extra
    )
