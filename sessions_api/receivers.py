"""Signal receivers: the session registry follows Django's login and logout."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from sessions_api.registry import user_session_forget, user_session_record, user_sessions_revoke_all


@receiver(user_logged_in, dispatch_uid="sessions_api.record_login")
def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        user_session_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="sessions_api.forget_logout")
def forget_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        user_session_forget(session=request.session)


@receiver(post_save, sender=get_user_model(), dispatch_uid="sessions_api.deactivated")
def end_sessions_of_deactivated_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not instance.is_active:
        user_sessions_revoke_all(user=instance)
