"""Strict readers for environment variables, used by the settings module.

django-environ does the parsing; this module adds what it does not do: every value is
checked at start-up, and a bad one stops the process with one line that names the
variable and what it accepts, instead of a traceback or a silently ignored setting.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import environ
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

# Short names accepted by SESSION_ENGINE. Each maps to the app's own store, which is
# Django's store meeting the contract of sessions_api.engines.base.
from sessions_api.engines import ENGINE_MODULES as SESSION_ENGINES

_DJANGO_ENGINE_PREFIX = "django.contrib.sessions.backends."
# What .env.example writes where a secret must be replaced.
PLACEHOLDER = "REPLACE-ME"
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


class ConfigError(Exception):
    """A configuration value is unusable; the message names the variable."""


EXIT_STATUS = 2


def fail(message: str, status: int = EXIT_STATUS) -> NoReturn:
    """Stop start-up with one readable line on stderr (exit status 2 unless told)."""
    sys.stderr.write(f"Configuration error: {message}\n")
    raise SystemExit(status)


@contextmanager
def stop_on_configuration_error(status: int = EXIT_STATUS) -> Iterator[None]:
    """Around an entry point's start-up: a configuration an app refuses is one line too.

    ``django.setup()`` runs each app's ``ready()``, where ``sessions_api`` refuses a
    ``SESSION_ENGINE`` whose store does not meet its contract (``ImproperlyConfigured``):
    that stops the process like a bad value in the settings (``fail()``), not with a
    traceback. ``status`` is the exit status for both kinds (gunicorn wants its own).
    """
    try:
        yield
    except ImproperlyConfigured as error:
        fail(str(error), status)
    except SystemExit as stop:
        if stop.code == EXIT_STATUS and status != EXIT_STATUS:
            raise SystemExit(status) from None  # fail() in the settings: its line is out
        raise


def secret_key_weakness(value: str) -> str | None:
    """Why ``value`` will not do as a secret key with debug off, or None when it will.

    Django's own rules (``manage.py check --deploy``, security.W009 and W025: at least
    50 characters, 5 of them different, not a ``startproject`` development key), and
    not the placeholder of ``.env.example``.
    """
    if PLACEHOLDER in value.upper():
        return f"is the placeholder {PLACEHOLDER} of .env.example"
    if value.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"starts with {SECRET_KEY_INSECURE_PREFIX!r}, the mark of a development key"
    if len(value) < SECRET_KEY_MIN_LENGTH:
        return f"is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters"
    return None


def require_strong_secret(name: str, value: str) -> None:
    """Refuse ``value`` (from ``name``) if it is weak; the message never shows it."""
    weakness = secret_key_weakness(value)
    if weakness:
        raise ConfigError(
            f"{name} {weakness}; with DJANGO_DEBUG off it must be a long random secret, "
            f"e.g. from {MAKE_A_KEY}."
        )


class Reader:
    """Typed access to the environment; every failure becomes a ConfigError."""

    def __init__(self) -> None:
        self.env = environ.Env()

    def raw(self, name: str) -> str | None:
        return self.env.str(name, default=None)

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.env.str(name, default=default)
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None or value == "":
            return default
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name}={value!r} is not a boolean; use true or false.")

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ConfigError(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name}={value!r} must be at least {minimum}.")
        return number

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: list[str]) -> str:
        value = self.raw(name)
        if value is None or value == "":
            return default
        for choice in choices:
            if value.strip().lower() == choice.lower():
                return choice
        raise ConfigError(f"{name}={value!r} is not valid; use one of {', '.join(choices)}.")

    def rate(self, name: str, default: str) -> str:
        """A DRF throttle rate such as ``5/min`` (number / second, minute, hour, day)."""
        value = (self.raw(name) or default).strip()
        number, _, period = value.partition("/")
        if not number.isdigit() or not period or period[0] not in "smhd":
            raise ConfigError(f"{name}={value!r} is not a rate; use e.g. 5/min, 100/hour.")
        return value

    def session_engine(self, name: str = "SESSION_ENGINE") -> str:
        """The module path of the session engine.

        Accepts the five short names, Django's own dotted paths for them (mapped to
        ours), or any other dotted path to a module whose ``SessionStore`` meets the
        engine contract (checked when the app starts).
        """
        value = (self.raw(name) or "db").strip()
        if value in SESSION_ENGINES:
            return SESSION_ENGINES[value]
        if value.startswith(_DJANGO_ENGINE_PREFIX):
            short = value.removeprefix(_DJANGO_ENGINE_PREFIX)
            if short in SESSION_ENGINES:
                return SESSION_ENGINES[short]
        if "." in value and all(part.isidentifier() for part in value.split(".")):
            return value
        raise ConfigError(
            f"{name}={value!r} is not a session engine; use one of "
            f"{', '.join(SESSION_ENGINES)} or a dotted module path."
        )

    def url(self, name: str, default: str, kind: str) -> dict[str, Any]:
        """Parse a database, cache or email URL with django-environ."""
        value = self.raw(name) or default
        schemes = {"db": self.env.DB_SCHEMES, "cache": self.env.CACHE_SCHEMES}.get(kind)
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if schemes is not None and scheme not in schemes:
            raise ConfigError(
                f"{name} has an unknown scheme {scheme!r}; use one of {', '.join(sorted(schemes))}."
            )
        try:
            if kind == "db":
                return self.env.db_url_config(value)
            if kind == "cache":
                return self.env.cache_url_config(value)
            return self.env.email_url_config(value)
        except Exception as exc:  # environ raises several types for a bad URL
            raise ConfigError(f"{name} is not a valid {kind} URL ({exc}).") from None
