"""Admin: task records and the outbox's unsent messages, read-only (they change only
through tasks_api.services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tasks_api.models import TaskOutbox, TaskRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows every field, and offers no way to add or change a row."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TaskRecord)
class TaskRecordAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "owner_user", "created_at", "started_at", "cancel_requested_at")
    list_filter = ("name",)
    search_fields = ("=id", "=request_id", "owner_user__username")
    date_hierarchy = "created_at"


@admin.register(TaskOutbox)
class TaskOutboxAdmin(ReadOnlyAdmin):
    """What waits for the broker (or for its time), and why the last publish failed."""

    list_display = ("task", "due_at", "attempts", "last_error")
    search_fields = ("=task__id",)
