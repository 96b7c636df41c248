"""``GET /api/v1/events/``: the caller's live events, as Server-Sent Events.

An asynchronous Django view, so an open stream holds no worker thread: it waits on the
process's one pub/sub connection (``sessions_api.events.hub``) and costs a coroutine.
Everything before the stream starts runs as every API request does, synchronously and
through the same session store, registry check and owner rules
(``tasks_api.streams.event_stream_prepare``); errors before the stream are problem
documents like everywhere else in the API.

DRF views are synchronous, so this is a plain Django view; ``EventStreamDocs`` is the
DRF view that only describes it to drf-spectacular (see ``documented_as``).
"""

from __future__ import annotations

from string import Template
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.views import View
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, MethodNotAllowed
from rest_framework.request import Request

from sessions_api.conf import DEFAULTS as SESSIONS_API_DEFAULTS
from sessions_api.errors import DEPENDENCY_ERRORS, ServiceUnavailable
from sessions_api.events.serializers import ResetEventSerializer, SessionEventSerializer
from sessions_api.events.stream import stream_open
from sessions_api.problems import django_problem
from sessions_api.rest import ApiView
from sessions_api.schema import ProblemSerializer, problems
from tasks_api.serializers import TaskSerializer
from tasks_api.streams import event_stream_prepare

EVENT_STREAM = "text/event-stream"


class StreamEventSerializer(serializers.Serializer):
    """One event of the stream, as an ``EventSource`` sees it (described by the scheme below)."""


class StreamEventScheme(OpenApiSerializerExtension):
    """Each event as its fields (``event``, ``id``, ``data``, ``retry``), one shape per type.

    Before OpenAPI 3.2 (``itemSchema``), the schema of a ``text/event-stream`` response
    describes one event, its fields by name, and ``data`` is a string. That it holds
    JSON of a given schema is what JSON Schema's ``contentMediaType`` and
    ``contentSchema`` say, but OpenAPI 3.0 (this document's version) has neither, so
    they appear as the extensions ``x-contentMediaType`` and ``x-contentSchema``. The
    data's own schemas stay components, so a client can name them.
    """

    target_class = StreamEventSerializer
    data_of = {
        "task": TaskSerializer,
        "session": SessionEventSerializer,
        "reset": ResetEventSerializer,
        "error": ProblemSerializer,
    }

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        shapes = []
        for event, data in self.data_of.items():
            data_component = auto_schema.resolve_serializer(data, direction)
            shape = ResolvedComponent(
                name=f"{event.capitalize()}StreamEvent",
                type=ResolvedComponent.SCHEMA,
                object=f"{event}-stream-event",
                schema={
                    "type": "object",
                    "description": f"`event: {event}`, its `data:` a `{data_component.name}`.",
                    "properties": {
                        "event": {"type": "string", "enum": [event]},
                        "id": {
                            "type": "string",
                            "description": "Send it back as `Last-Event-ID` to resume here.",
                        },
                        "data": {
                            "type": "string",
                            "description": f"JSON: `{data_component.name}`.",
                            "x-contentMediaType": "application/json",
                            "x-contentSchema": data_component.ref,
                        },
                        "retry": {
                            "type": "integer",
                            "description": "Milliseconds to wait before reconnecting.",
                        },
                    },
                    "required": ["event", "id", "data"],
                },
            )
            auto_schema.registry.register_on_missing(shape)
            shapes.append(shape.ref)
        return {"oneOf": shapes}


DESCRIPTION = Template("""\
A `text/event-stream` of what concerns the caller (the session cookie identifies it,
as for every request). Each event has an `id:`, an `event:` and one `data:` line of JSON:

| event | data | when |
|---|---|---|
| `task` | the task object (`Task`) | each status change and progress report of a task |
| `session` | `SessionEvent` | this session ended or changed key; the stream closes after it |
| `reset` | `{}` | the `Last-Event-ID` is older than what is kept: re-read the state |
| `error` | a problem document | the stream cannot go on (its event store went away) |

`retry:` (milliseconds) comes first; a comment line keeps the connection alive every
$EVENTS_HEARTBEAT_SECONDS s. Reconnecting with `Last-Event-ID` (as `EventSource` does)
delivers every missed event in order, none twice, for at least
$EVENTS_RETENTION_SECONDS s or the owner's last $EVENTS_MAX_PER_OWNER events; older
than that, one `reset`. Another owner's events never appear. When the session key
rotates (login, register, `cycle`, password change) the stream ends with a `session`
event, reason `rotated`: `EventSource` reconnects with the new cookie (and may get
`reset`, the owner having changed). An anonymous caller gets a session (and so an
owner for its tasks) on its first stream, as on its first task.

Errors before the stream starts are problem documents: `404` for a `task` that is not
the caller's, `429 throttled` beyond $EVENTS_MAX_STREAMS_PER_SESSION open streams per
session, `503 unavailable` when the event store is down. Polling
`GET /api/v1/tasks/{id}/` works as before, as the fallback.""").substitute(SESSIONS_API_DEFAULTS)


class EventStreamView(View):
    """The stream itself (an asynchronous view)."""

    http_method_names = ["get"]

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            spec = await sync_to_async(event_stream_prepare)(
                request=request,
                task_id=request.GET.get("task"),
                last_event_id=request.headers.get("Last-Event-ID"),
            )
            stream = await stream_open(spec)
        except APIException as exc:
            return django_problem(exc)
        except DEPENDENCY_ERRORS:
            return django_problem(ServiceUnavailable())
        response = StreamingHttpResponse(stream, content_type=EVENT_STREAM)
        response["Cache-Control"] = "no-store"
        # Proxies that buffer responses (nginx) would hold events back.
        response["X-Accel-Buffering"] = "no"
        return response

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = django_problem(MethodNotAllowed(request.method or ""))
        response["Allow"] = "GET"

        async def answer() -> HttpResponse:
            return response

        return answer()


class EventStreamDocs(ApiView):
    """What drf-spectacular shows for ``EventStreamView`` (never serves a request)."""

    @extend_schema(
        operation_id="events_stream",
        summary="Stream my live events",
        description=DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "task",
                OpenApiTypes.UUID,
                OpenApiParameter.QUERY,
                required=False,
                description="Only this task's events (and the session's). Another "
                "owner's task, or no such task, is `404`.",
            ),
            OpenApiParameter(
                "Last-Event-ID",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="The `id:` of the last event received: the stream starts "
                "with what came after it.",
            ),
        ],
        responses={
            (200, EVENT_STREAM): OpenApiResponse(
                StreamEventSerializer,
                description="Server-Sent Events; the schema is that of one event, by its "
                "`event:` type (see above); `data:` is one line of JSON.",
            ),
            **problems(404, 429, 503),
        },
        tags=["events"],
    )
    def get(self, request: Request) -> HttpResponse:  # pragma: no cover - documents only
        raise NotImplementedError
