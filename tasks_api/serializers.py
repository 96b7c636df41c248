"""Request validation and response shapes of the task endpoints.

The arguments of each task type are validated by that type's own serializer (see
``tasks_api.registry``); here ``args`` is only required to be a JSON object.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sessions_api.fields import StrictCharField, StrictIntegerField
from sessions_api.responses import Shape
from sessions_api.serializers import AwareDateTimeField
from tasks_api.conf import app_settings
from tasks_api.policy import REQUIRES, STATES


class TaskCreateSerializer(serializers.Serializer):
    name = StrictCharField(
        max_length=100, help_text="A task type's name, e.g. `demo.add` (see `GET /tasks/types/`)."
    )
    args = serializers.DictField(
        required=False,
        default=dict,
        help_text="The type's arguments; their JSON Schema is in `GET /tasks/types/`.",
    )
    # countdown: made in get_fields(), since its bound is a setting read per request.
    run_after = AwareDateTimeField(
        required=False,
        help_text="Instead of `countdown`: when the task may start, ISO 8601 with a UTC "
        "offset, at most `TASKS_MAX_DELAY_SECONDS` ahead; a time passed means at once.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        run_after = fields.pop("run_after")  # after countdown, as the schema lists them
        fields["countdown"] = StrictIntegerField(
            required=False,
            default=0,
            min_value=0,
            max_value=app_settings.TASKS_MAX_DELAY_SECONDS,
            help_text="Seconds to wait before the task may start, up to `TASKS_MAX_DELAY_SECONDS`.",
        )
        fields["run_after"] = run_after
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        run_after = attrs.get("run_after")
        if run_after is None:
            return attrs
        if attrs.get("countdown"):
            raise serializers.ValidationError(
                {"run_after": ["Send countdown or run_after, not both."]}, code="invalid"
            )
        limit = app_settings.TASKS_MAX_DELAY_SECONDS
        if run_after > timezone.now() + timedelta(seconds=limit):
            raise serializers.ValidationError(
                {"run_after": [f"At most {limit} seconds ahead."]}, code="max_value"
            )
        return attrs


class _BlankIsAValueMixin:
    """A query parameter sent empty (``?status=``) is a bad value, not an absent one.

    DRF reads query strings like HTML forms, where an empty optional field counts as
    missing; here that would quietly list everything for a filter the client did send.
    """

    def get_value(self, dictionary: Any) -> Any:
        return dictionary.get(self.field_name, serializers.empty)  # type: ignore[attr-defined]


class QueryChoiceField(_BlankIsAValueMixin, serializers.ChoiceField):
    pass


class QueryCharField(_BlankIsAValueMixin, serializers.CharField):
    pass


class TaskListQuerySerializer(serializers.Serializer):
    status = QueryChoiceField(
        choices=STATES, required=False, help_text="Only tasks in this status."
    )
    name = QueryCharField(max_length=100, required=False, help_text="Only tasks of this type.")


class ProgressSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.FloatField()
    message = serializers.CharField(allow_null=True)


class TaskErrorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The exception's class name, e.g. `TaskFailed`.")
    message = serializers.CharField()


@extend_schema_field(OpenApiTypes.ANY)
class AnyJSONField(serializers.JSONField):
    """Any JSON value."""


class TaskSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=STATES, help_text="`SUCCESS`, `FAILURE` and `REVOKED` are final."
    )
    args = serializers.DictField()
    progress = ProgressSerializer(allow_null=True, help_text="While `PROGRESS`, else null.")
    result = AnyJSONField(allow_null=True, help_text="The return value; only on `SUCCESS`.")
    error = TaskErrorSerializer(allow_null=True, help_text="Only on `FAILURE`; no traceback.")
    run_after = serializers.DateTimeField(
        allow_null=True,
        help_text="When the task may start (from `countdown` or `run_after`); null: at once.",
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="This task's path.")


class TaskTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    args = serializers.DictField(help_text="JSON Schema of the `args` object.")
    requires = serializers.ChoiceField(
        choices=REQUIRES,
        help_text="`anyone`; `user` (logged in); `staff` (a logged-in staff user).",
    )


# The wire form of the task object (see sessions_api.responses).
TASK = Shape(TaskSerializer)
