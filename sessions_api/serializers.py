"""Input validation and output shapes for the session endpoints."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sessions_api.conf import DEFAULTS, app_settings
from sessions_api.engines import ENGINE_NAMES
from sessions_api.engines.signed_cookies import COOKIE_LIMIT_BYTES
from sessions_api.fields import StrictCharField
from sessions_api.policy import (
    KEY_MAX_LENGTH,
    KEY_NAME_SCHEMA,
    KEY_PATTERN,
    MAX_VALUE_DEPTH,
    value_problem,
)
from sessions_api.responses import Shape

POLICIES = ["default", "seconds", "datetime", "browser_close"]


# --- Fields ------------------------------------------------------------------------


@extend_schema_field(KEY_NAME_SCHEMA)
class KeyNameField(serializers.Field):
    """A key name as sent, untrimmed; the name rules are the service's to apply.

    DRF's CharField would trim spaces and turn numbers into strings, quietly storing a
    key the client did not ask for.
    """

    default_error_messages = {"invalid": "Key names are strings."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def to_representation(self, value: str) -> str:
        return value


@extend_schema_field(
    {"description": "Any JSON value: object, array, string, number, boolean or null."}
)
class SessionValueField(serializers.JSONField):
    """Any JSON value, nested at most ``MAX_VALUE_DEPTH`` levels, finite, valid Unicode."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        problem = value_problem(data)
        if problem:
            raise serializers.ValidationError(problem, code="invalid")
        return super().to_internal_value(data)


VALUE_HELP = f"Any JSON value, nested at most {MAX_VALUE_DEPTH} levels deep."


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry a UTC offset (no guessing the zone)."""

    default_error_messages = {
        "naive": "Give a UTC offset, e.g. 2026-11-25T18:45:38Z or +01:00.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


# --- Output ------------------------------------------------------------------------


class SessionUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class ExpirySerializer(serializers.Serializer):
    age = serializers.IntegerField(
        help_text="`get_expiry_age()` in seconds. For `browser_close` this is the "
        "server-side lifetime, `SESSION_COOKIE_AGE`. For `seconds` it is the full "
        "inactivity window, counted from the session's last save: a request that only "
        "reads does not extend it (a write does, and so does every request with "
        "`SESSION_SAVE_EVERY_REQUEST`). A logged-in session's expiry never passes the "
        "end of its login (`SESSION_API_MAX_LOGIN_AGE` after it began): age and date are "
        "capped there."
    )
    expires_at = serializers.DateTimeField(help_text="`get_expiry_date()`, in UTC.")
    at_browser_close = serializers.BooleanField(help_text="`get_expire_at_browser_close()`.")
    policy = serializers.ChoiceField(
        choices=POLICIES,
        help_text="`default`: no custom expiry (`SESSION_COOKIE_AGE` and "
        "`SESSION_EXPIRE_AT_BROWSER_CLOSE` decide); `seconds`: `set_expiry(int)`; "
        "`datetime`: `set_expiry(datetime)`; `browser_close`: `set_expiry(0)`.",
    )


class StorageSerializer(serializers.Serializer):
    server_side = serializers.BooleanField(
        help_text="False for `signed_cookies`: the data lives in the browser's cookie, "
        "signed but readable, and the last response to arrive wins."
    )
    bytes_used = serializers.IntegerField(
        help_text="UTF-8 bytes of the client keys and values as one compact JSON object "
        "(`{}`, 2 bytes, when there are none)."
    )
    bytes_limit = serializers.IntegerField(
        help_text="`SESSION_API_MAX_SESSION_BYTES`; for `signed_cookies` the tighter of "
        f"that and what still fits in a {COOKIE_LIMIT_BYTES}-byte cookie (an estimate for "
        "data that does not compress)."
    )
    keys_limit = serializers.IntegerField(help_text="`SESSION_API_MAX_KEYS`.")


class SessionSerializer(serializers.Serializer):
    id = serializers.CharField(
        allow_null=True,
        help_text="A short, non-secret fingerprint of the session (12 hex characters), "
        "or null when the caller has no session. The session key itself is never sent.",
    )
    engine = serializers.ChoiceField(choices=ENGINE_NAMES)
    is_empty = serializers.BooleanField(
        help_text="True when the session holds nothing: no keys, no login, no custom expiry."
    )
    keys = serializers.IntegerField(help_text="Number of client keys (`_` keys not counted).")
    user = SessionUserSerializer(allow_null=True)
    expiry = ExpirySerializer()
    storage = StorageSerializer()


class KeyValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = SessionValueField()


class CsrfTokenSerializer(serializers.Serializer):
    csrf_token = serializers.CharField(
        help_text="Send it back as the `X-CSRFToken` header on every unsafe request."
    )


# --- Input -------------------------------------------------------------------------


class KeyCreateSerializer(serializers.Serializer):
    key = KeyNameField(
        help_text=f"1-{KEY_MAX_LENGTH} characters matching `{KEY_PATTERN.pattern}`; "
        "names starting with `_` are reserved."
    )
    value = SessionValueField(help_text=VALUE_HELP)


class KeyPutSerializer(serializers.Serializer):
    value = SessionValueField(help_text=VALUE_HELP)

    @classmethod
    def validated_value(cls, data: Any) -> Any:
        """``value`` of a request body, with the answers ``is_valid(raise_exception=True)`` gives.

        A serializer instance deep-copies its fields, a cost the hottest write of the API
        need not pay: a body with a ``value`` runs one bound copy of the field, made once,
        anything else (missing field, not an object) goes through a real serializer for
        its errors.
        """
        if isinstance(data, dict) and "value" in data:
            try:
                return _put_value_field(cls).run_validation(data["value"])
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"value": error.detail}) from None
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["value"]


@functools.cache
def _put_value_field(serializer_class: type[KeyPutSerializer]) -> serializers.Field:
    # ``fields`` is DRF's public accessor for a serializer's bound fields; validating a
    # value keeps no state on the field, so one copy serves every request.
    return serializer_class().fields["value"]


class ExpiryUpdateSerializer(serializers.Serializer):
    """Exactly one of the three forms of ``set_expiry()``."""

    FORMS = ("seconds", "expires_at", "at_browser_close")

    seconds = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="`set_expiry(seconds)`: expire after this many seconds of inactivity "
        f"(1 to `SESSION_API_MAX_EXPIRY_SECONDS`, default "
        f"{DEFAULTS['SESSION_API_MAX_EXPIRY_SECONDS']}; when logged in, at most the "
        "seconds left of the login, else `max_login_age`).",
    )
    expires_at = AwareDateTimeField(
        required=False,
        help_text="`set_expiry(datetime)`: expire at this moment; in the future, within "
        "the same maximum, with a UTC offset; when logged in, not after the login ends "
        "(`max_login_age`).",
    )
    at_browser_close = serializers.BooleanField(
        required=False, help_text="`true` only: `set_expiry(0)`, expire when the browser closes."
    )

    def to_internal_value(self, data: Any) -> Any:
        # DRF's BooleanField also takes 1, "yes" or "on"; the schema says a JSON boolean.
        flag = data.get("at_browser_close", False) if isinstance(data, dict) else False
        if not isinstance(flag, bool):
            raise serializers.ValidationError(
                {"at_browser_close": ["Must be the JSON value true."]}, code="invalid"
            )
        return super().to_internal_value(data)

    def validate_seconds(self, value: int) -> int:
        maximum = app_settings.SESSION_API_MAX_EXPIRY_SECONDS
        if value > maximum:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {maximum}.", code="max_value"
            )
        return value

    def validate_expires_at(self, value: Any) -> Any:
        now = timezone.now()
        if value <= now:
            raise serializers.ValidationError("The expiry must be in the future.", code="past")
        maximum = app_settings.SESSION_API_MAX_EXPIRY_SECONDS
        if value - now > timedelta(seconds=maximum):
            raise serializers.ValidationError(
                f"The expiry must be at most {maximum} seconds from now.", code="max_value"
            )
        return value

    def validate_at_browser_close(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError(
                "Only true is accepted; use DELETE to return to the default expiry.",
                code="invalid",
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in self.FORMS if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                "Give exactly one of seconds, expires_at or at_browser_close.", code="invalid"
            )
        return attrs


# --- Accounts ------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    # A CharField, not an EmailField: the address is optional, and "" is no e-mail format.
    email = serializers.CharField(allow_blank=True, help_text="An e-mail address, or empty.")
    is_staff = serializers.BooleanField()


class RegisterSerializer(serializers.Serializer):
    username = StrictCharField(
        max_length=150,
        help_text="Up to 150 characters: letters, digits and @ . + - _ (Django's rules).",
    )
    password = StrictCharField(max_length=4096, write_only=True, style={"input_type": "password"})
    email = serializers.EmailField(required=False, allow_blank=True, default="")

    def validate_username(self, value: str) -> str:
        user_model = get_user_model()
        # What create_user() will store (NFKC: a fullwidth "foo" is "foo"), so that the
        # uniqueness check sees the name the database will be asked to hold.
        value = user_model.normalize_username(value)
        try:
            user_model.username_validator(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages, code="invalid") from None
        if user_model.objects.filter(username=value).exists():
            raise serializers.ValidationError("This username is taken.", code="unique")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = get_user_model()(username=attrs["username"], email=attrs.get("email", ""))
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": error.messages}) from None
        return attrs


class LoginSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, write_only=True, style={"input_type": "password"})


class PasswordChangeSerializer(serializers.Serializer):
    # Checked by user_password_change(), not here: the check counts against the
    # failed-login throttles, which a serializer has no business writing to.
    old_password = StrictCharField(
        max_length=4096,
        write_only=True,
        style={"input_type": "password"},
        help_text="The current password; a wrong one counts as a failed login.",
    )
    new_password = StrictCharField(
        max_length=4096, write_only=True, style={"input_type": "password"}
    )

    def validate_new_password(self, value: str) -> str:
        try:
            password_validation.validate_password(value, user=self.context["user"])
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return value


class UserSessionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The session's fingerprint, as in `GET /api/v1/session/`.")
    current = serializers.BooleanField(help_text="True for the session making this request.")
    created_at = serializers.DateTimeField(help_text="When this login happened.")
    last_seen_at = serializers.DateTimeField(
        help_text="Last request from this session (updated at most once a minute)."
    )
    ip = serializers.IPAddressField(
        allow_null=True,
        help_text="Client address of the last request (X-Forwarded-For is trusted only "
        "through `TRUSTED_PROXY_COUNT` proxies).",
    )
    user_agent = serializers.CharField(allow_blank=True)
    expires_at = serializers.DateTimeField()


class RevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many sessions were logged out.")


# --- The wire form of each output shape (see sessions_api.responses) ----------------

SESSION = Shape(SessionSerializer)
KEY_VALUE = Shape(KeyValueSerializer)
EXPIRY = Shape(ExpirySerializer)
USER = Shape(UserSerializer)
USER_SESSION = Shape(UserSessionSerializer)
