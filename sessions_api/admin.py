"""Django admin: the session registry, where staff can see and revoke logins."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sessions_api.models import UserSession, UserSessionQuerySet


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "public_id", "engine", "ip", "created_at", "last_seen_at", "expires_at"]
    list_filter = ["engine"]
    search_fields = ["user__username", "ip", "user_agent"]
    readonly_fields = [
        "user",
        "public_id",
        "engine",
        "ip",
        "user_agent",
        "created_at",
        "last_seen_at",
        "expires_at",
    ]
    exclude = ["key_hash", "sealed_key"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke (log out) the selected sessions", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: UserSessionQuerySet) -> None:
        count = queryset.revoke()
        self.message_user(request, f"Logged out {count} session(s).", messages.SUCCESS)

    # Deleting from the admin is revoking: the store's copy goes too.
    def delete_model(self, request: HttpRequest, obj: UserSession) -> None:
        obj.end()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserSession]) -> None:
        # The admin's querysets come from the default manager: UserSessionQuerySet.
        cast(UserSessionQuerySet, queryset).revoke()
