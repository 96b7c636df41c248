"""The errors of the session and auth endpoints, as data.

Each is an ``APIException`` subclass whose ``default_code`` is the ``code`` clients see
(the codes are listed in the README and in each operation of the OpenAPI schema);
``sessions_api.problems`` renders every one of them, and DRF's own, as an RFC 9457
problem document. This module imports no view machinery, so anything (authentication
classes included) may raise these errors.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, status

try:  # Redis is optional: only the cache engines need it.
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover
    _REDIS_ERRORS = ()

# A dependency that is down: answered 503 ``unavailable`` instead of a 500.
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
    *_REDIS_ERRORS,
)


# --- The errors ------------------------------------------------------------------


class CsrfFailed(exceptions.PermissionDenied):
    default_detail = "CSRF token missing or incorrect."
    default_code = "csrf_failed"


class InvalidKey(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This key name is not allowed."
    default_code = "invalid_key"


class ReservedKey(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Keys starting with '_' are reserved for the server."
    default_code = "reserved_key"


class InvalidCredentials(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The username or password is not correct."
    default_code = "invalid_credentials"


class LoginThrottled(exceptions.Throttled):
    default_detail = "Too many failed logins from this address or for this username."
    default_code = "throttled"

    # Seconds until a retry may pass; set by Throttled.__init__ (not declared by its stubs).
    wait: int | None


class KeyExists(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This key already exists; use PUT to replace it."
    default_code = "key_exists"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class ValueTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The value is too large."
    default_code = "value_too_large"


class SessionTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The session would be too large."
    default_code = "session_too_large"


class TooManyKeys(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The session would hold too many keys."
    default_code = "too_many_keys"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unavailable. Try again shortly."
    default_code = "unavailable"
