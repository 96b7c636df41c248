"""Signal receivers: the login registry follows Django's login, logout and users.

Connected in ``SessionsApiConfig.ready()``. Each receiver is one call into a service
or the registry's manager.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from sessions_api.engines import ApiSessionStore
from sessions_api.engines.base import session_key_cycled
from sessions_api.models import UserSession
from sessions_api.services import user_login_record


@receiver(user_logged_in, dispatch_uid="sessions_api.record_login")
def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        user_login_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="sessions_api.forget_logout")
def forget_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        UserSession.objects.forget(session=request.session)


@receiver(session_key_cycled, dispatch_uid="sessions_api.follow_key")
def follow_key(sender: Any, session: ApiSessionStore, old_hash: str, **kwargs: Any) -> None:
    if session.get(SESSION_KEY) is not None:  # only a login has a row to follow
        UserSession.objects.rekey(old_hash=old_hash, session=session)


@receiver(post_save, sender=get_user_model(), dispatch_uid="sessions_api.deactivated")
def end_sessions_of_deactivated_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not instance.is_active:
        UserSession.objects.revoke_all(user=instance)
