"""Signal receivers: the session side tells the task side of logins through Django."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from tasks_api import services


@receiver(user_logged_in, dispatch_uid="tasks_api.adopt_anonymous_tasks")
def adopt_anonymous_tasks(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    services.tasks_adopt_anonymous(user=user, session=getattr(request, "session", None))
