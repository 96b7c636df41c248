"""Routes of the task part of the API (mounted under /api/v1/)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tasks_api import event_views, views
from tasks_api.spectacular_internals import documented_as

router = SimpleRouter()
router.register("tasks", views.TaskViewSet, basename="task")

urlpatterns = [
    path("", include(router.urls)),
    path(
        "events/",
        documented_as(event_views.EventStreamView.as_view(), event_views.EventStreamDocs),
        name="events",
    ),
]
