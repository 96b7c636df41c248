"""URL configuration: the API under /api/v1/, docs, probes, the admin and the console."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api_project.console import console_view
from api_project.health import HealthzView, ReadyzView
from sessions_api.forms import ThrottledAdminAuthenticationForm, throttled_login_view

# The admin's login counts failures in the same throttles as the API's login.
admin.site.login_form = ThrottledAdminAuthenticationForm

# What ReDoc needs beyond the site's policy: it runs its search in a Web Worker started
# from a blob: URL, and its bundle writes two <style> elements as it loads, before it is
# given the nonce (an empty one, then its stylesheet); they are allowed by their hashes,
# which belong to the pinned drf-spectacular-sidecar (tests/browser fail on a change).
REDOC_POLICY = {
    "worker-src": ["'self'", "blob:"],
    "style-src": [
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    ],
}

urlpatterns = [
    path("api/v1/", include("sessions_api.urls")),
    path("api/v1/", include("tasks_api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        csp_update(REDOC_POLICY)(SpectacularRedocView.as_view(url_name="schema")),
        name="redoc",
    ),
    path("healthz", HealthzView.as_view(), name="healthz"),
    path("readyz", ReadyzView.as_view(), name="readyz"),
    path("admin/login/", throttled_login_view(admin.site.login)),
    path("admin/", admin.site.urls),
    path("", console_view, name="console"),
]

handler400 = "sessions_api.problems.bad_request"
handler403 = "sessions_api.problems.permission_denied"
handler404 = "sessions_api.problems.page_not_found"
handler500 = "sessions_api.problems.server_error"
