"""The private parts of Django, DRF and drf-spectacular we use, pinned one test each.

Each helper of ``sessions_api/engines/django_internals.py``, ``sessions_api/
drf_internals.py`` and ``tasks_api/spectacular_internals.py`` is called on a real store,
cache or request, and what it returns is checked against what the public API sees: an
upgrade that moves the private attribute, or changes what it means, fails here first.
Also: the engines package stays a leaf (it imports nothing else of the project).
"""

from __future__ import annotations

import ast
import os
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.exceptions import InvalidSessionKey
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request

from sessions_api.drf_internals import django_request
from sessions_api.engines import cached_db, db, file
from sessions_api.engines.django_internals import (
    redis_client,
    redis_codec,
    session_file,
    session_row,
)
from tasks_api.spectacular_internals import serializer_json_schema
from tests.namespace import redis_location, service_key_prefix

ENGINES_DIR = Path(__file__).resolve().parents[2] / "sessions_api" / "engines"


@pytest.fixture(params=["django", "configured"])
def redis_cache(request: pytest.FixtureRequest, redis_server: None) -> RedisCache:
    """Django's own Redis cache, and the configured one (api_project.cache's subclass),
    each under a key prefix of this run (tests/namespace.py)."""
    if request.param == "django":
        cache = RedisCache(redis_location(), {"KEY_PREFIX": service_key_prefix()})
    else:
        cache = caches["default"]
    assert isinstance(cache, RedisCache)
    return cache


# --- sessions_api/engines/django_internals.py ----------------------------------------


def test_redis_client_is_the_client_the_cache_reads_and_writes_with(redis_cache):
    key = redis_cache.make_and_validate_key("internals:client")
    redis_cache.set("internals:client", {"a": 1}, 60)
    for write in (False, True):
        client = redis_client(redis_cache, key=key, write=write)
        assert isinstance(client, redis.Redis)
        assert client.get(key) is not None  # where the cache wrote, under the full key
    redis_client(redis_cache, key=key, write=True).delete(key)
    assert redis_cache.get("internals:client") is None
    # Any other cache has no redis-py client: the engines fall back to the locked merge.
    assert redis_client(LocMemCache("internals", {}), key=key) is None


def test_redis_codec_is_how_the_cache_encodes_its_values(redis_cache):
    key = redis_cache.make_and_validate_key("internals:codec")
    client = redis_client(redis_cache, key=key, write=True)
    codec = redis_codec(redis_cache)
    value = {"x": [1, "two", None], "y": 3.5}
    client.set(key, codec.dumps(value), ex=60)
    assert redis_cache.get("internals:codec") == value
    redis_cache.set("internals:codec", ["back"], 60)
    assert codec.loads(client.get(key)) == ["back"]
    redis_cache.delete("internals:codec")


@pytest.mark.django_db
@pytest.mark.parametrize("module", [db, cached_db], ids=["db", "cached_db"])
def test_session_row_is_the_unexpired_row_of_the_session(module):
    store = module.SessionStore()
    store["k"] = "v"
    store.save()
    row = session_row(module.SessionStore(store.session_key))
    assert isinstance(row, Session)
    assert row.session_key == store.session_key
    assert module.SessionStore().decode(row.session_data) == {"k": "v"}
    # Django's lookup is the one that filters by expiry...
    past = timezone.now() - timedelta(seconds=1)
    Session.objects.filter(session_key=store.session_key).update(expire_date=past)
    assert session_row(module.SessionStore(store.session_key)) is None
    # ...and answers None, not an exception, for a key it does not know.
    assert session_row(module.SessionStore("no-such-session-key")) is None


def test_session_file_is_the_file_the_store_reads_and_writes(tmp_path, monkeypatch):
    store_class = file.SessionStore
    # The file store caches its folder on the class (monkeypatch puts it back after).
    monkeypatch.setattr(store_class, "_storage_path", str(tmp_path), raising=False)
    store = store_class()
    store["k"] = "v"
    store.save()
    path = session_file(store)
    assert path == os.path.join(tmp_path, settings.SESSION_COOKIE_NAME + store.session_key)
    with open(path, encoding="ascii") as handle:
        assert store_class().decode(handle.read())["k"] == "v"
    # It checks the key too: no way out of the folder.
    with pytest.raises(InvalidSessionKey):
        session_file(store_class("../../etc/passwd"))
    store.delete()
    assert not os.path.exists(path)


# --- sessions_api/drf_internals.py ----------------------------------------------------


def test_django_request_is_the_http_request_under_drf_s_request():
    http_request = RequestFactory().get("/")
    assert django_request(Request(http_request)) is http_request
    assert django_request(http_request) is http_request


# --- tasks_api/spectacular_internals.py ----------------------------------------------
# tests/tasks_api/test_registry.py checks the mapped schemas through the endpoint; this
# calls the helper itself, including the nested serializer it must refuse.


def test_serializer_json_schema_maps_a_flat_serializer_and_refuses_a_nested_one():
    class Flat(serializers.Serializer):
        n = serializers.IntegerField(min_value=1, help_text="How many.")
        s = serializers.CharField(required=False, max_length=5)

    schema = serializer_json_schema(Flat)
    assert schema["type"] == "object"
    assert schema["required"] == ["n"]
    assert schema["properties"]["n"] == {
        "type": "integer",
        "minimum": 1,
        "description": "How many.",
    }
    assert schema["properties"]["s"]["maxLength"] == 5

    class Empty(serializers.Serializer):
        pass

    assert serializer_json_schema(Empty) == {"type": "object", "properties": {}}

    class Nested(serializers.Serializer):
        inner = Flat()

    with pytest.raises(ImproperlyConfigured, match="flat"):
        serializer_json_schema(Nested)


# --- sessions_api/engines is a leaf ----------------------------------------------------


def _imported_modules(source: str) -> list[str]:
    """Every module an engines module imports, anywhere in it (functions too), by full name.

    ``from X import y`` counts as ``X.y`` (y may be a module or a name in X), so that
    ``from sessions_api import engines`` is inside the package and ``... import policy``
    is not.
    """
    package = "sessions_api.engines"
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package the module is in
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.extend(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def _outside(names: list[str]) -> list[str]:
    return [
        name
        for name in names
        if name.split(".")[0] in {"sessions_api", "api_project", "tasks_api", "tests"}
        and not name.startswith("sessions_api.engines.")
    ]


def test_the_engines_package_imports_nothing_else_of_the_project():
    # The check sees imports in functions, relative ones and import_module() calls.
    probe = (
        "from sessions_api.engines import base\n"
        "def f():\n"
        "    from .. import policy\n"
        "    import tasks_api.models\n"
        "    return import_module('sessions_api.models')\n"
    )
    assert set(_outside(_imported_modules(probe))) == {
        "sessions_api.policy",
        "tasks_api.models",
        "sessions_api.models",
    }
    modules = sorted(ENGINES_DIR.glob("*.py"))
    assert len(modules) >= 8  # __init__, base, django_internals and the five engines
    found = {
        f"{path.name}: {name}"
        for path in modules
        for name in _outside(_imported_modules(path.read_text(encoding="utf-8")))
    }
    assert not found, found
