"""Settings come from the environment, strictly; production values pass check --deploy."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoDbStore
from django.core.exceptions import ImproperlyConfigured

from sessions_api.engines import store_check
from tests.namespace import ROOT
from tests.servers import celery_worker_command, gunicorn_command
from tests.support.processes import STRONG_KEY, run_clean, run_django

PRINT = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({n: getattr(s, n) for n in %r}, default=str))"
)


def test_every_session_setting_is_read_by_its_own_name():
    names = [
        "SESSION_ENGINE",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_AGE",
        "SESSION_COOKIE_DOMAIN",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SESSION_SAVE_EVERY_REQUEST",
        "SESSION_FILE_PATH",
        "SESSION_COOKIE_PATH",
        "SESSION_API_MAX_VALUE_BYTES",
        "SESSION_API_MAX_SESSION_BYTES",
        "SESSION_API_MAX_KEYS",
        "SESSION_API_MAX_EXPIRY_SECONDS",
        "ALLOW_REGISTRATION",
        "CSRF_TRUSTED_ORIGINS",
        "CORS_ALLOWED_ORIGINS",
        "ALLOWED_HOSTS",
    ]
    result = run_django(
        PRINT % names,
        SESSION_ENGINE="signed_cookies",
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_AGE="600",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_HTTPONLY="false",
        SESSION_COOKIE_SECURE="true",
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_EXPIRE_AT_BROWSER_CLOSE="true",
        SESSION_SAVE_EVERY_REQUEST="yes",
        SESSION_FILE_PATH="/tmp/sessions-here",
        SESSION_COOKIE_PATH="/app",
        SESSION_API_MAX_VALUE_BYTES="100",
        SESSION_API_MAX_SESSION_BYTES="1000",
        SESSION_API_MAX_KEYS="7",
        SESSION_API_MAX_EXPIRY_SECONDS="3600",
        ALLOW_REGISTRATION="false",
        CSRF_TRUSTED_ORIGINS="https://app.example.com,https://b.example.com",
        CORS_ALLOWED_ORIGINS="https://app.example.com",
        DJANGO_ALLOWED_HOSTS="api.example.com",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "SESSION_ENGINE": "sessions_api.engines.signed_cookies",
        "SESSION_COOKIE_NAME": "sid",
        "SESSION_COOKIE_AGE": 600,
        "SESSION_COOKIE_DOMAIN": "example.com",
        "SESSION_COOKIE_HTTPONLY": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_FILE_PATH": "/tmp/sessions-here",
        "SESSION_COOKIE_PATH": "/app",
        "SESSION_API_MAX_VALUE_BYTES": 100,
        "SESSION_API_MAX_SESSION_BYTES": 1000,
        "SESSION_API_MAX_KEYS": 7,
        "SESSION_API_MAX_EXPIRY_SECONDS": 3600,
        "ALLOW_REGISTRATION": False,
        "CSRF_TRUSTED_ORIGINS": ["https://app.example.com", "https://b.example.com"],
        "CORS_ALLOWED_ORIGINS": ["https://app.example.com"],
        "ALLOWED_HOSTS": ["api.example.com"],
    }


@pytest.mark.parametrize(
    ("short", "module"),
    [
        ("db", "sessions_api.engines.db"),
        ("file", "sessions_api.engines.file"),
        ("cache", "sessions_api.engines.cache"),
        ("cached_db", "sessions_api.engines.cached_db"),
        ("django.contrib.sessions.backends.cached_db", "sessions_api.engines.cached_db"),
    ],
)
def test_engine_short_names(short, module):
    result = run_django(PRINT % ["SESSION_ENGINE"], SESSION_ENGINE=short)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"SESSION_ENGINE": module}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SESSION_ENGINE": "memcache"}, "SESSION_ENGINE"),
        ({"SESSION_COOKIE_AGE": "two weeks"}, "SESSION_COOKIE_AGE"),
        ({"SESSION_COOKIE_AGE": "0"}, "SESSION_COOKIE_AGE"),
        ({"SESSION_COOKIE_SECURE": "maybe"}, "SESSION_COOKIE_SECURE"),
        ({"SESSION_COOKIE_SAMESITE": "sometimes"}, "SESSION_COOKIE_SAMESITE"),
        ({"SESSION_API_MAX_KEYS": "-1"}, "SESSION_API_MAX_KEYS"),
        ({"DJANGO_DEBUG": "nah"}, "DJANGO_DEBUG"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, "SECURE_PROXY_SSL_HEADER"),
    ],
)
def test_a_bad_value_stops_start_up_with_one_line_naming_it(env, named):
    result = run_django("import django; django.setup()", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: ") and named in lines[0]
    assert "Traceback" not in result.stderr


PLAIN_ENGINE = "tests.api_project.plain_session_engine"  # Django's db store, as it is
SERVERS = [pytest.mark.integration, pytest.mark.standalone]  # whatever the database


def refusal(engine: str) -> str:
    """The line start-up stops with for ``engine``, whose store is Django's own."""
    with pytest.raises(ImproperlyConfigured) as refused:
        store_check(store=DjangoDbStore, engine=engine)
    return f"Configuration error: {refused.value}"


def entry_point(name: str) -> tuple[list[str], int]:
    """The command of an entry point, and the exit status of a refused start-up."""
    return {
        "manage.py": ([sys.executable, "manage.py", "check"], 2),
        # 3: the worker failed to boot, and gunicorn's master stops instead of retrying.
        "gunicorn": (gunicorn_command(0, "--workers", "1"), 3),
        "celery": (
            celery_worker_command(queue="refused", name="refused", extra=("--pool", "solo")),
            2,
        ),
    }[name]


def assert_refused_with(result: subprocess.CompletedProcess, name: str, status: int, line: str):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    if name == "gunicorn":  # gunicorn's own log lines follow
        assert lines.count(line) == 1, result.stderr
        assert lines[-1].endswith("Reason: Worker failed to boot."), result.stderr
    else:
        assert lines[-1] == line, result.stderr


@pytest.mark.parametrize(
    ("name", "engine", "line"),
    [
        pytest.param("manage.py", PLAIN_ENGINE, refusal(PLAIN_ENGINE), id="manage.py"),
        pytest.param("gunicorn", PLAIN_ENGINE, refusal(PLAIN_ENGINE), marks=SERVERS, id="gunicorn"),
        pytest.param("celery", PLAIN_ENGINE, refusal(PLAIN_ENGINE), marks=SERVERS, id="celery"),
        pytest.param(
            "manage.py",
            "tests.api_project.no_such_engine",
            "Configuration error: SESSION_ENGINE='tests.api_project.no_such_engine': "
            "no such module.",
            id="manage.py-no-such-module",
        ),
    ],
)
def test_an_engine_off_the_contract_stops_start_up_with_one_line(name, engine, line, tmp_path):
    command, status = entry_point(name)
    result = run_clean(
        command,
        SESSION_ENGINE=engine,
        CELERY_BROKER_URL="filesystem://",  # never reached: the worker stops before
        CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path),
    )
    assert_refused_with(result, name, status, line)


def env_example_value(name: str) -> str:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    match = re.search(rf"^{name}=(.*)$", text, re.M)
    assert match, f"{name} is not set in .env.example"
    return match.group(1)


def test_env_example_trusts_no_proxy_while_compose_publishes_gunicorn():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    published = [str(port) for port in compose["services"]["web"].get("ports", [])]
    # A port published on every interface: clients reach gunicorn without a proxy.
    exposed = [port for port in published if not port.startswith(("127.0.0.1:", "[::1]:"))]
    if exposed:
        assert env_example_value("TRUSTED_PROXY_COUNT") == "0", exposed


WEAK_KEYS = {
    "placeholder": env_example_value("DJANGO_SECRET_KEY"),
    "placeholder-padded": "REPLACE-ME-" + STRONG_KEY,
    "short": STRONG_KEY[:49],
    "few-characters": "abcd" * 20,
    "startproject": "django-insecure-" + STRONG_KEY,
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_a_weak_secret_key_stops_start_up_with_debug_off(key):
    result = run_django("import django; django.setup()", DJANGO_SECRET_KEY=key)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: DJANGO_SECRET_KEY ")
    assert "secrets.token_urlsafe(50)" in lines[0]
    assert key not in lines[0] or key == "REPLACE-ME"  # a secret is never echoed


def test_a_weak_fallback_key_stops_start_up_too():
    result = run_django(
        "import django; django.setup()",
        DJANGO_SECRET_KEY_FALLBACKS=f"{secrets.token_urlsafe(50)},short",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "Configuration error: DJANGO_SECRET_KEY_FALLBACKS[1] is shorter than 50 characters"
    )


def test_debug_takes_any_secret_key_and_fallbacks_are_a_list():
    assert (
        run_django(
            "import django; django.setup()", DJANGO_DEBUG="true", DJANGO_SECRET_KEY="dev"
        ).returncode
        == 0
    )
    old, older = secrets.token_urlsafe(50), secrets.token_urlsafe(50)
    result = run_django(
        PRINT % ["SECRET_KEY", "SECRET_KEY_FALLBACKS"],
        DJANGO_SECRET_KEY_FALLBACKS=f"{old}, {older}",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SECRET_KEY": STRONG_KEY,
        "SECRET_KEY_FALLBACKS": [old, older],
    }


@pytest.mark.parametrize(
    "name",
    [
        "manage.py",
        pytest.param("gunicorn", marks=SERVERS),
        pytest.param("celery", marks=SERVERS),
    ],
)
def test_a_weak_secret_key_stops_every_entry_point_with_one_line(name, tmp_path):
    command, status = entry_point(name)
    result = run_clean(
        command,
        DJANGO_SECRET_KEY=WEAK_KEYS["placeholder"],
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path),
    )
    line = (
        "Configuration error: DJANGO_SECRET_KEY is the placeholder REPLACE-ME of .env.example; "
        "with DJANGO_DEBUG off it must be a long random secret, e.g. from "
        'python -c "import secrets; print(secrets.token_urlsafe(50))".'
    )
    assert_refused_with(result, name, status, line)


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "pr0duction-" + "Zq8#kL2$vN9@xW4!" * 4,
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = run_django(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'DEBUG'])",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("frame_options", "ancestors"), [("DENY", "'none'"), ("SAMEORIGIN", "'self'")]
)
def test_the_policys_frame_ancestors_follow_x_frame_options(frame_options, ancestors):
    result = run_django(PRINT % ["CONTENT_SECURITY_POLICY"], X_FRAME_OPTIONS=frame_options)
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert policy["frame-ancestors"] == [ancestors]


def test_json_serializer_and_standard_context_processors():
    assert settings.SESSION_SERIALIZER == "django.contrib.sessions.serializers.JSONSerializer"
    assert settings.TEMPLATES[0]["OPTIONS"]["context_processors"] == [
        "django.template.context_processors.debug",
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "django.template.context_processors.csrf",
    ]
    assert settings.CSRF_COOKIE_HTTPONLY is False
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_sqlite_is_set_up_for_concurrent_writers():
    result = run_django(PRINT % ["DATABASES"], DATABASE_URL="sqlite:////tmp/x.sqlite3")
    options = json.loads(result.stdout)["DATABASES"]["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]
