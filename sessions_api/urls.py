"""Routes of the session part of the API (mounted under /api/v1/)."""

from django.urls import include, path
from rest_framework.routers import Route, SimpleRouter

from sessions_api import views


class KeysRouter(SimpleRouter):
    """DRF's router, plus DELETE on the list route (``clear``: delete every key)."""

    routes = [
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={"get": "list", "post": "create", "delete": "clear"},
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        Route(
            url=r"^{prefix}/{lookup}{trailing_slash}$",
            mapping={"get": "retrieve", "put": "update", "delete": "destroy"},
            name="{basename}-detail",
            detail=True,
            initkwargs={"suffix": "Instance"},
        ),
    ]


router = KeysRouter()
router.register("session/keys", views.SessionKeyViewSet, basename="session-key")
router.register("auth/sessions", views.UserSessionViewSet, basename="user-session")

urlpatterns = [
    # The key routes first: the most frequent requests match after fewer patterns.
    path("", include(router.urls)),
    path("session/", views.SessionView.as_view(), name="session"),
    path("session/cycle/", views.SessionCycleView.as_view(), name="session-cycle"),
    path("session/expiry/", views.SessionExpiryView.as_view(), name="session-expiry"),
    path("auth/csrf/", views.CsrfTokenView.as_view(), name="auth-csrf"),
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="auth-password"),
]
