"""Routes of the task part of the API (mounted under /api/v1/)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tasks_api import views

router = SimpleRouter()
router.register("tasks", views.TaskViewSet, basename="task")

urlpatterns = [path("", include(router.urls))]
