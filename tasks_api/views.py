"""Task endpoints: thin views that validate, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_api.engines import api_session
from sessions_api.rest import ApiGenericViewSet, json_response
from sessions_api.schema import problems
from tasks_api import selectors, services
from tasks_api.policy import IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_WINDOW
from tasks_api.serializers import (
    TASK,
    TaskCreateSerializer,
    TaskListQuerySerializer,
    TaskSerializer,
    TaskTypeSerializer,
)
from tasks_api.throttling import TaskEnqueueThrottle

IDEMPOTENCY_HEADER = "Idempotency-Key"

ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The task's id."
)
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=f"Up to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters. The same "
    "owner sending the same key again within "
    f"{IDEMPOTENCY_WINDOW.total_seconds() / 3600:g} h gets `200` with the first task "
    "instead of a new one; the same "
    "key with a different body is `409 idempotency_conflict`.",
)
BROKER_503 = "`broker_unavailable`: the broker could not take the task; nothing was queued."


def _is_whole_number(text: str) -> bool:
    # ASCII digits only: str.isdigit() is also true for "²" and "①", which int() refuses.
    return text.isascii() and text.isdigit()


class TaskPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        # DRF quietly falls back to the default for a bad page_size; a client that asked
        # for something should hear that it was not understood.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _is_whole_number(raw) or not 1 <= int(raw) <= self.max_page_size:
            message = f"A whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        # Likewise for page: DRF reads "" as the first page and accepts "last".
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not _is_whole_number(raw):
            raise ValidationError({self.page_query_param: ["A whole number from 1."]})
        return super().get_page_number(request, paginator)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not (key.isascii() and key.isprintable()):
        message = f"Use 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."
        raise ValidationError({IDEMPOTENCY_HEADER: [message]})
    return key


@extend_schema(tags=["tasks"])
class TaskViewSet(ApiGenericViewSet):
    """The caller's tasks: a logged-in user's, or else those of the caller's session."""

    lookup_field = "id"
    lookup_value_regex = "[^/]+"
    pagination_class = TaskPagination
    serializer_class = TaskSerializer

    def get_throttles(self) -> list[Any]:
        if self.action == "create":
            return [TaskEnqueueThrottle()]
        return super().get_throttles()

    def _owner(self) -> selectors.Owner | None:
        return selectors.task_owner(user=self.request.user, session=api_session(self.request))

    @extend_schema(
        operation_id="tasks_types",
        summary="List the task types",
        description="Every task type with its description, who may run it and the JSON "
        "Schema of its `args` (limits and defaults included).",
        responses={200: TaskTypeSerializer(many=True), **problems(503)},
    )
    @action(detail=False, methods=["get"], url_path="types", pagination_class=None)
    def types(self, request: Request) -> Response:
        return Response(TaskTypeSerializer(selectors.task_types_list(), many=True).data)

    @extend_schema(
        operation_id="tasks_list",
        summary="List my tasks",
        description="Newest first, 20 a page (`page_size` up to 100).",
        parameters=[TaskListQuerySerializer],
        responses={200: TaskSerializer(many=True), **problems(400, 404, 503)},
    )
    def list(self, request: Request) -> Response:
        query = TaskListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        records = selectors.tasks_list(owner=self._owner(), **query.validated_data)
        page = self.paginate_queryset(records) or []  # None only without a paginator
        items = TASK.render_many(selectors.task_detail(record=record) for record in page)
        return self.get_paginated_response(items)

    @extend_schema(
        operation_id="tasks_create",
        summary="Enqueue a task",
        description="Records the task for its owner (an anonymous caller gets a session "
        "on its first task) and publishes it: `202` with the task and its `Location`. "
        "Checks, in order: `name` (`unknown_task`), who may run the type "
        "(`not_authenticated`, `permission_denied`), the `args` (`invalid`, fields under "
        "`args.`), the `Idempotency-Key`. Rate limited per owner (`429`). The task in "
        "a `202` is as it was queued (`PENDING`); poll its `url` for what happened since.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=TaskCreateSerializer,
        responses={
            202: TaskSerializer,
            200: OpenApiResponse(
                TaskSerializer, description="An `Idempotency-Key` replay: the first task."
            ),
            **problems(
                400,
                403,
                409,
                413,
                415,
                429,
                503,
                s400="`parse_error`, `invalid` (see `errors`) or `unknown_task`.",
                s409="`idempotency_conflict`.",
                s413="`request_too_large`.",
                s503=BROKER_503,
            ),
        },
    )
    def create(self, request: Request) -> HttpResponse:
        serializer = TaskCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record, created = services.task_enqueue(
            user=request.user,
            session=api_session(request),
            idempotency_key=_idempotency_key(request),
            body=request.data,
            **serializer.validated_data,
        )
        if created:
            detail = selectors.task_detail_queued(record=record)
        else:  # an Idempotency-Key replay: the first task as it is now
            detail = selectors.task_detail(record=selectors.task_refresh(record=record))
        response = json_response(
            TASK.render(detail), status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        )
        response["Location"] = request.build_absolute_uri(detail["url"])
        return response

    @extend_schema(
        operation_id="tasks_retrieve",
        summary="Poll a task",
        parameters=[ID_PARAMETER],
        responses={200: TaskSerializer, **problems(404, 503)},
    )
    def retrieve(self, request: Request, id: str) -> HttpResponse:
        record = selectors.task_get(owner=self._owner(), task_id=id)
        return json_response(TASK.render(selectors.task_detail(record=record)))

    @extend_schema(
        operation_id="tasks_cancel",
        summary="Cancel a task",
        description="`202` with the task. A queued task (a countdown included) never runs "
        "and shows `REVOKED` at once; a running `demo.sleep` ends `REVOKED` within a "
        "second or so. A task that already finished is `409 task_finished`.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={
            202: TaskSerializer,
            **problems(403, 404, 409, 503, s409="`task_finished`."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, id: str) -> HttpResponse:
        record = selectors.task_get(owner=self._owner(), task_id=id)
        record = services.task_cancel(record=record)
        return json_response(
            TASK.render(selectors.task_detail(record=record)), status=status.HTTP_202_ACCEPTED
        )
