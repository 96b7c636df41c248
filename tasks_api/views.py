"""Task endpoints: thin views that validate, call a service or selector, serialize."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from sessions_api.engines import api_session
from sessions_api.rest import ApiGenericViewSet, json_response
from sessions_api.schema import problems
from tasks_api import selectors, services
from tasks_api.models import TaskRecord
from tasks_api.policy import (
    ACTIVE_TASK_RETRY_SECONDS,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IDEMPOTENCY_WINDOW,
    MAX_PAGE_BYTES,
)
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
BROKER_503 = (
    "`broker_unavailable`: more than `TASKS_OUTBOX_MAX` tasks wait for the message broker, "
    "which cannot take them at the moment; nothing was queued."
)
_JSON = JSONRenderer()


# Beyond any page or offset a list can reach; int() refuses a few thousand digits.
_MAX_DIGITS = 18


def _whole_number(text: str) -> int | None:
    """``text`` as a whole number, or None when it is not one (or absurdly long)."""
    # ASCII digits only: str.isdigit() is also true for "²" and "①", which int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_DIGITS:
        return None
    return int(text)


class TaskPagination(PageNumberPagination):
    """Pages of tasks, newest first: ``page_size`` tasks (or fewer), and at most
    ``MAX_PAGE_BYTES`` of JSON.

    A page that would pass the byte bound stops before the task that would take it
    there, and ``next`` continues from that task: ``next`` is an ``offset`` link (the
    position of the first task not shown) to follow as it is. A client may send
    ``offset`` instead of ``page``. ``previous`` goes back ``page_size`` tasks.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    offset_query_param = "offset"
    max_page_bytes = MAX_PAGE_BYTES
    # Records fetched from the database at a time: a page that stops early leaves the
    # rest unread (a task may carry a MiB of arguments).
    fetch_chunk = 10

    def get_page_size(self, request: Request) -> int:
        # DRF quietly falls back to the default for a bad page_size; a client that asked
        # for something should hear that it was not understood.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            message = f"A whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return size

    def _start(self, request: Request, size: int) -> int:
        """The position of the page's first task, from ``offset`` or ``page``."""
        page = request.query_params.get(self.page_query_param)
        offset = request.query_params.get(self.offset_query_param)
        if offset is not None:
            if page is not None:
                message = f"Send {self.page_query_param} or {self.offset_query_param}, not both."
                raise ValidationError({self.offset_query_param: [message]})
            start = _whole_number(offset)
            if start is None:
                raise ValidationError({self.offset_query_param: ["A whole number from 0."]})
            return start
        if page is None:
            return 0
        # Unlike DRF, "" is not the first page and "last" is not accepted.
        number = _whole_number(page)
        if number is None:
            raise ValidationError({self.page_query_param: ["A whole number from 1."]})
        if number < 1:
            raise NotFound(self.invalid_page_message)
        return (number - 1) * size

    def _link(self, request: Request, offset: int) -> str:
        url = remove_query_param(request.build_absolute_uri(), self.page_query_param)
        if offset == 0:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, offset)

    def paginated_response(
        self,
        queryset: QuerySet[TaskRecord],
        request: Request,
        render: Callable[[TaskRecord], dict[str, Any]],
    ) -> HttpResponse:
        """The page of ``queryset`` that the request asks for, each record ``render``-ed."""
        size = self.get_page_size(request)
        start = self._start(request, size)
        count = queryset.count()
        if start and start >= count:
            raise NotFound(self.invalid_page_message)
        previous = self._link(request, max(0, start - size)) if start else None
        # The envelope with the longest next link this page can have.
        envelope = self._envelope(count, self._link(request, start + size), previous)
        budget = self.max_page_bytes - len(envelope)
        # The page's ids in one query (one snapshot of the order), then the records a
        # few at a time.
        ids = list(queryset[start : start + size].values_list("pk", flat=True))
        items: list[bytes] = []
        used = taken = 0  # bytes so far; ids dealt with (those gone since included)
        full = False
        for i in range(0, len(ids), self.fetch_chunk):
            chunk = ids[i : i + self.fetch_chunk]
            records = {record.pk: record for record in queryset.filter(pk__in=chunk)}
            for pk in chunk:
                record = records.get(pk)  # None: deleted (or out of the filter) since
                if record is not None:
                    item = _JSON.render(render(record))
                    used += len(item) + (1 if items else 0)  # and its comma
                    full = bool(items) and used > budget
                    if full:
                        break
                    items.append(item)
                taken += 1
            if full:
                break
        end = start + taken
        body = self._envelope(count, self._link(request, end) if end < count else None, previous)
        # The rendered items go into the envelope's empty results list as they are.
        body = body[: -len(b"]}")] + b",".join(items) + b"]}"
        return HttpResponse(body, content_type=_JSON.media_type)

    @staticmethod
    def _envelope(count: int, next_link: str | None, previous: str | None) -> bytes:
        return _JSON.render(
            {"count": count, "next": next_link, "previous": previous, "results": []}
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        def parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
            return {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": {"type": "integer", **schema},
            }

        return [
            parameter(self.page_query_param, "The page number.", minimum=1),
            parameter(
                self.page_size_query_param,
                f"Tasks a page (default {self.page_size}).",
                minimum=1,
                maximum=self.max_page_size,
            ),
            parameter(
                self.offset_query_param,
                f"Instead of `{self.page_query_param}`: how many tasks to skip. `next` "
                "links use it, since a page cut short by its byte bound ends anywhere.",
                minimum=0,
            ),
        ]


def _task_object(record: TaskRecord) -> dict[str, Any]:
    return TASK.render(selectors.task_detail(record=record))


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
        description="Newest first, 20 a page (`page_size` up to 100), and at most "
        f"{MAX_PAGE_BYTES // (1024 * 1024)} MiB of JSON a page: a page that would be larger "
        "stops early, with fewer tasks than `page_size`, and `next` continues from the first "
        "task it left out. Follow `next` as it is: it is an `offset` link. `previous` goes "
        "back `page_size` tasks.",
        parameters=[TaskListQuerySerializer],
        responses={200: TaskSerializer(many=True), **problems(400, 404, 503)},
    )
    def list(self, request: Request) -> HttpResponse:
        query = TaskListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        records = selectors.tasks_list(owner=self._owner(), **query.validated_data)
        return TaskPagination().paginated_response(records, request, render=_task_object)

    @extend_schema(
        operation_id="tasks_create",
        summary="Enqueue a task",
        description="Records the task for its owner (an anonymous caller gets a session "
        "on its first task) and publishes it: `202` with the task and its `Location`. "
        "Checks, in order: `name` (`unknown_task`), who may run the type "
        "(`not_authenticated`, `permission_denied`), the `args` (`invalid`, fields under "
        "`args.`), the `Idempotency-Key`, then the limits, each `429 throttled` with "
        "`Retry-After`: enqueues per owner (`TASKS_ENQUEUE_RATE`) and, for anonymous "
        "callers, per client address whatever the session (`TASKS_ENQUEUE_ADDRESS_RATE`); "
        "unfinished tasks per owner, waiting ones included (`TASKS_MAX_ACTIVE_PER_OWNER`; "
        f"`Retry-After: {ACTIVE_TASK_RETRY_SECONDS}`); for `mail.send`, recipients per user "
        "in 24 h (`TASKS_MAIL_DAILY_RECIPIENTS`; `Retry-After` says when enough of them "
        "are free again). A type switched off on the server (`TASKS_DISABLED_TYPES`) is "
        "`unknown_task`. The task in a `202` is as it was queued (`PENDING`); poll its "
        "`url` for what happened since. A `202` task runs once (or is cancelled), also "
        "when the broker is away at the moment: it waits, `PENDING`, and is published "
        "once the broker is back. `countdown` or `run_after` schedule it (up to "
        "`TASKS_MAX_DELAY_SECONDS` ahead); it is published when due, and shows the time "
        "in `run_after`.",
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
                s429="`throttled`: a rate or a limit above; see `Retry-After`.",
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
        description="`202` with the task. A queued or scheduled task never runs (a "
        "scheduled one is never published) and shows `REVOKED` at once; a running "
        "`demo.sleep` ends `REVOKED` within a second or so. A task that already finished "
        "is `409 task_finished`.",
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
