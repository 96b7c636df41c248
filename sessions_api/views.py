"""Session endpoints: thin views that validate, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_api import selectors, services
from sessions_api.conf import DEFAULTS, app_settings
from sessions_api.drf_internals import django_request
from sessions_api.engines import api_session
from sessions_api.policy import KEY_NAME_SCHEMA
from sessions_api.rest import ApiView, ApiViewSet, json_response
from sessions_api.schema import problems
from sessions_api.serializers import (
    EXPIRY,
    KEY_VALUE,
    SESSION,
    USER,
    USER_SESSION,
    CsrfTokenSerializer,
    ExpirySerializer,
    ExpiryUpdateSerializer,
    KeyCreateSerializer,
    KeyPutSerializer,
    KeyValueSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    RegisterSerializer,
    RevokedSerializer,
    SessionSerializer,
    UserSerializer,
    UserSessionSerializer,
)
from sessions_api.throttling import RegisterThrottle

KEY_PARAMETER = OpenApiParameter(
    "key",
    KEY_NAME_SCHEMA,
    OpenApiParameter.PATH,
    description="The key name (URL-encoded). Other names are `400 invalid_key`, and "
    "names starting with `_` are `400 reserved_key`.",
)


def _session_response(request: Request, status_code: int = status.HTTP_200_OK) -> HttpResponse:
    return json_response(SESSION.render(selectors.session_detail(request=request)), status_code)


class SessionView(ApiView):
    """The caller's own session."""

    @extend_schema(
        operation_id="session_retrieve",
        summary="Read my session",
        description="The caller's session as identified by its cookie. Reading never "
        "creates a session: without one, `id` is null and `is_empty` true.",
        responses={200: SessionSerializer, **problems(503)},
        tags=["session"],
    )
    def get(self, request: Request) -> HttpResponse:
        return _session_response(request)

    @extend_schema(
        operation_id="session_flush",
        summary="Flush my session",
        description="`session.flush()`: every key is deleted, the key is forgotten "
        "(a new one is made on the next write) and the user is logged out.",
        request=None,
        responses={204: None, **problems(403, 503)},
        tags=["session"],
    )
    def delete(self, request: Request) -> Response:
        services.session_flush(request=django_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionCycleView(ApiView):
    """Rotate the session key."""

    @extend_schema(
        operation_id="session_cycle",
        summary="Rotate my session key",
        description="`session.cycle_key()`: a new session key with the same data; the "
        "response's `id` is the new fingerprint and `Set-Cookie` carries the new key.",
        request=None,
        responses={200: SessionSerializer, **problems(403, 503)},
        tags=["session"],
    )
    def post(self, request: Request) -> HttpResponse:
        services.session_cycle(session=api_session(request))
        return _session_response(request)


@extend_schema(tags=["keys"])
class SessionKeyViewSet(ApiViewSet):
    """The client keys of the caller's session (keys starting with ``_`` are Django's)."""

    lookup_field = "key"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="session_keys_list",
        summary="List my keys",
        description="Every client key with its value, sorted by key in code-point order.",
        responses={200: KeyValueSerializer(many=True), **problems(503)},
    )
    def list(self, request: Request) -> HttpResponse:
        items = selectors.session_keys_list(session=api_session(request))
        return json_response(KEY_VALUE.render_many(items))

    @extend_schema(
        operation_id="session_keys_create",
        summary="Add a key",
        description="Creates the key; `409 key_exists` if it is already there (use PUT "
        "to replace). Checks, in order: the name (`invalid_key`, `reserved_key`), the "
        "value (`invalid`, `value_too_large`), existence (`key_exists`), then the "
        "session limits (`session_too_large`, `too_many_keys`). A refused write changes "
        "nothing.",
        request=KeyCreateSerializer,
        responses={
            201: KeyValueSerializer,
            **problems(400, 403, 409, 413, 415, 503, s409="`key_exists`."),
        },
    )
    def create(self, request: Request) -> HttpResponse:
        serializer = KeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, value = serializer.validated_data["key"], serializer.validated_data["value"]
        services.session_key_set(
            session=api_session(request), key=key, value=value, create_only=True
        )
        location = request.build_absolute_uri(f"{request.path}{quote(key, safe='')}/")
        response = json_response(
            KEY_VALUE.render({"key": key, "value": value}), status=status.HTTP_201_CREATED
        )
        response["Location"] = location
        return response

    @extend_schema(
        operation_id="session_keys_retrieve",
        parameters=[KEY_PARAMETER],
        summary="Read a key",
        responses={200: KeyValueSerializer, **problems(400, 404, 503)},
    )
    def retrieve(self, request: Request, key: str) -> HttpResponse:
        return json_response(
            KEY_VALUE.render(selectors.session_key_get(session=api_session(request), key=key))
        )

    @extend_schema(
        operation_id="session_keys_put",
        parameters=[KEY_PARAMETER],
        summary="Create or replace a key",
        description="`201` when the key was created, `200` when replaced. Same checks "
        "as POST, without `key_exists`.",
        request=KeyPutSerializer,
        responses={
            200: KeyValueSerializer,
            201: KeyValueSerializer,
            **problems(400, 403, 413, 415, 503),
        },
    )
    def update(self, request: Request, key: str) -> HttpResponse:
        value = KeyPutSerializer.validated_value(request.data)
        created = services.session_key_set(session=api_session(request), key=key, value=value)
        return json_response(
            KEY_VALUE.render({"key": key, "value": value}),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="session_keys_destroy",
        parameters=[KEY_PARAMETER],
        summary="Delete a key",
        request=None,
        responses={204: None, **problems(400, 403, 404, 503)},
    )
    def destroy(self, request: Request, key: str) -> Response:
        services.session_key_delete(session=api_session(request), key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="session_keys_clear",
        summary="Delete all my keys",
        description="Removes every client key; the login and the expiry stay.",
        request=None,
        responses={204: None, **problems(403, 503)},
    )
    def clear(self, request: Request) -> Response:
        services.session_keys_clear(session=api_session(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionExpiryView(ApiView):
    """When the caller's session expires: ``set_expiry()`` over HTTP."""

    @extend_schema(
        operation_id="session_expiry_retrieve",
        summary="Read my session's expiry",
        responses={200: ExpirySerializer, **problems(503)},
        tags=["expiry"],
    )
    def get(self, request: Request) -> HttpResponse:
        return json_response(
            EXPIRY.render(selectors.session_expiry_get(session=api_session(request)))
        )

    @extend_schema(
        operation_id="session_expiry_update",
        summary="Change my session's expiry",
        description="Exactly one of `seconds` (`set_expiry(seconds)`), `expires_at` "
        "(`set_expiry(datetime)`) or `at_browser_close: true` (`set_expiry(0)`); other "
        "fields are ignored. The server enforces the new expiry on every engine, "
        "`signed_cookies` included. The response's `Set-Cookie` carries the new "
        "lifetime (`Max-Age`/`Expires`, none for `at_browser_close`). A login ends "
        "`SESSION_API_MAX_LOGIN_AGE` seconds (default "
        f"{DEFAULTS['SESSION_API_MAX_LOGIN_AGE']}) after it began, whatever its expiry "
        "says: on a logged-in session, `seconds` or `expires_at` that would end later is "
        "`400 invalid` (field error code `max_login_age`).",
        request=ExpiryUpdateSerializer,
        responses={200: ExpirySerializer, **problems(400, 403, 413, 415, 503)},
        tags=["expiry"],
    )
    def put(self, request: Request) -> HttpResponse:
        serializer = ExpiryUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.session_expiry_set(session=api_session(request), **serializer.validated_data)
        return json_response(
            EXPIRY.render(selectors.session_expiry_get(session=api_session(request)))
        )

    @extend_schema(
        operation_id="session_expiry_reset",
        summary="Return to the default expiry",
        description="`set_expiry(None)`: `SESSION_COOKIE_AGE` and "
        "`SESSION_EXPIRE_AT_BROWSER_CLOSE` decide again.",
        request=None,
        responses={200: ExpirySerializer, **problems(403, 503)},
        tags=["expiry"],
    )
    def delete(self, request: Request) -> HttpResponse:
        services.session_expiry_reset(session=api_session(request))
        return json_response(
            EXPIRY.render(selectors.session_expiry_get(session=api_session(request)))
        )


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfTokenView(ApiView):
    """CSRF bootstrap for SPAs and scripts."""

    @extend_schema(
        operation_id="auth_csrf",
        summary="Get a CSRF token",
        description="Sets the `csrftoken` cookie (readable by JavaScript) and returns "
        "the token. Send it as the `X-CSRFToken` header on every POST, PUT, PATCH and "
        "DELETE. Login rotates it: read the cookie again afterwards.",
        responses={200: CsrfTokenSerializer},
        tags=["auth"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"csrf_token": get_token(django_request(request))})


# --- Auth ----------------------------------------------------------------------------


def _user_response(user: Any, status_code: int = status.HTTP_200_OK) -> HttpResponse:
    return json_response(USER.render(selectors.user_detail(user=user)), status_code)


class RegisterView(ApiView):
    """Create an account; the caller is logged in at once."""

    throttle_classes = [RegisterThrottle]

    @extend_schema(
        operation_id="auth_register",
        summary="Create an account",
        description="Creates the user and logs them in, like a login: the session key "
        "rotates, the anonymous session's keys and tasks are kept, and the CSRF token "
        "changes (read the `csrftoken` cookie again). `404` when registration is "
        "turned off (`ALLOW_REGISTRATION=false`).",
        request=RegisterSerializer,
        responses={201: UserSerializer, **problems(400, 403, 404, 415, 429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> HttpResponse:
        if not app_settings.ALLOW_REGISTRATION:
            raise NotFound("Registration is turned off on this service.")
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(request=django_request(request), **serializer.validated_data)
        return _user_response(user, status.HTTP_201_CREATED)


class LoginView(ApiView):
    """Log in with a username and password."""

    @extend_schema(
        operation_id="auth_login",
        summary="Log in",
        description="Needs a CSRF token like every unsafe call, so a forged cross-site "
        "login is refused. On success the session key rotates (no session fixation), "
        "the anonymous session's keys and tasks are kept, and the CSRF token changes: "
        "read the `csrftoken` cookie again before the next unsafe call. Failed logins "
        "are limited per client address and username (`LOGIN_THROTTLE_IP_USERNAME_RATE`), "
        "per client address (`LOGIN_THROTTLE_IP_RATE`) and per username from all "
        "addresses (`LOGIN_THROTTLE_USERNAME_RATE`, looser): `429 throttled` with "
        "`Retry-After`. Parallel attempts cannot pass a limit; a right password does not "
        "count.",
        request=LoginSerializer,
        responses={200: UserSerializer, **problems(400, 403, 415, 429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> HttpResponse:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_login(request=django_request(request), **serializer.validated_data)
        return _user_response(user)


class LogoutView(ApiView):
    """End this session's login."""

    @extend_schema(
        operation_id="auth_logout",
        summary="Log out",
        description="Logs out and flushes the session (also when not logged in). A "
        "copy of the old cookie is anonymous from now on, on every engine.",
        request=None,
        responses={204: None, **problems(403)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        services.user_logout(request=django_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(ApiView):
    """The user this session is logged in as; `403 not_authenticated` when anonymous."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_me",
        summary="Who am I",
        responses={200: UserSerializer, **problems(403)},
        tags=["auth"],
    )
    def get(self, request: Request) -> HttpResponse:
        return _user_response(request.user)


class PasswordChangeView(ApiView):
    """Change the logged-in user's password."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_password_change",
        summary="Change my password",
        description="This session stays logged in under a new key; every other session "
        "of the user is logged out. The CSRF token changes. A wrong `old_password` is "
        "`400 invalid` and counts as a failed login of this user from this address, "
        "under the same limits as `POST /api/v1/auth/login/` (`429 throttled`).",
        request=PasswordChangeSerializer,
        responses={204: None, **problems(400, 403, 415, 429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data, context={"user": request.user})
        serializer.is_valid(raise_exception=True)
        services.user_password_change(
            request=django_request(request), user=request.user, **serializer.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class UserSessionViewSet(ApiViewSet):
    """My logged-in sessions on every device."""

    permission_classes = [IsAuthenticated]
    lookup_field = "id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="auth_sessions_list",
        summary="List my sessions",
        description="Every live login of this user, on every device, most recently "
        "seen first; `current` marks this one.",
        responses={200: UserSessionSerializer(many=True), **problems(403)},
    )
    def list(self, request: Request) -> HttpResponse:
        items = selectors.user_sessions_list(request=django_request(request), user=request.user)
        return json_response(USER_SESSION.render_many(items))

    @extend_schema(
        operation_id="auth_sessions_revoke",
        summary="Log out one of my sessions",
        description="That session is logged out at once, on every engine; a copy of "
        "its cookie is anonymous from now on. Revoking the current one is a logout.",
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH)],
        request=None,
        responses={204: None, **problems(403, 404)},
    )
    def destroy(self, request: Request, id: str) -> Response:
        services.user_session_revoke(
            request=django_request(request), user=request.user, public_id=id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="auth_sessions_revoke_others",
        summary="Log out all my other sessions",
        request=None,
        responses={200: RevokedSerializer, **problems(403)},
    )
    def clear(self, request: Request) -> Response:
        count = services.user_sessions_revoke_others(
            request=django_request(request), user=request.user
        )
        return Response(RevokedSerializer({"revoked": count}).data)
