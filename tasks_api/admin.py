"""Admin: task records, read-only (they change only through tasks_api.services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tasks_api.models import TaskRecord


@admin.register(TaskRecord)
class TaskRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner_user", "created_at", "started_at", "cancel_requested_at")
    list_filter = ("name",)
    search_fields = ("=id", "=request_id", "owner_user__username")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in TaskRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
