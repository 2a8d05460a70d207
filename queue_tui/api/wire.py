"""The hub's wire format as a server writes it: what the demo hub and the relay share.

The JSON encoding, the error envelope, the queue list's filters read from a query, and
the Server-Sent Events framing and response. The relay answers in the hub's shape so
every client works pointed at it; both import this module, neither the other.
Starlette is imported here only: the client side of `api` never imports this module.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

#: The spec's filters of `GET /api/ai/queue` (and of the history), as query parameters.
LIST_FILTERS = ("namespace", "model", "media_type", "status", "repo", "folder")
#: An SSE comment line: keeps an idle stream (and the proxies in between) open.
KEEPALIVE = b": keep-alive\n\n"


def hub_json(data: Any) -> bytes:
    """Compact JSON in UTF-8; unknown objects are stringified rather than crashing. A
    string holding a lone surrogate (which UTF-8 cannot carry, and which a row can hold:
    `add_row`, a POSTed `\\ud800` escape) makes the whole body go out with non-ASCII
    characters escaped instead, so the hub still answers with valid JSON."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode(
            "utf-8"
        )
    except UnicodeEncodeError:
        return json.dumps(data, separators=(",", ":"), default=str).encode("ascii")


class HubJSONResponse(JSONResponse):
    """JSON like the hub sends it (`hub_json`)."""

    def render(self, content: Any) -> bytes:
        return hub_json(content)


def error_body(error_type: str, title: str) -> dict[str, Any]:
    """The hub's error envelope: ``{"error": {"type", "title"}, "status": "error"}``."""
    return {"error": {"type": error_type, "title": title}, "status": "error"}


def error_response(status_code: int, error_type: str, title: str) -> Response:
    return HubJSONResponse(error_body(error_type, title), status_code=status_code)


def not_found() -> Response:
    return error_response(404, "resource_not_found", "Generation not found")


def invalid_params(title: str) -> Response:
    return error_response(422, "invalid_params", title)


def list_filters(
    query: Mapping[str, str], *, statuses: Sequence[str], media_types: Sequence[str]
) -> dict[str, str | None] | Response:
    """The queue's filters from the query (an empty value is no filter), or the hub's
    422 for a status or media type outside the ones given."""
    filters: dict[str, str | None] = {name: query.get(name) or None for name in LIST_FILTERS}
    if filters["media_type"] is not None and filters["media_type"] not in media_types:
        return invalid_params(f"Invalid media_type: must be one of {', '.join(media_types)}")
    if filters["status"] is not None and filters["status"] not in statuses:
        return invalid_params(f"Invalid status: must be one of {', '.join(statuses)}")
    return filters


def format_sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE message: ``[id: <id>\\n]event: <name>\\ndata: <json>\\n\\n``."""
    head = b"id: " + event_id.encode() + b"\n" if event_id is not None else b""
    return head + b"event: " + event.encode() + b"\ndata: " + hub_json(data) + b"\n\n"


class EventStreamResponse(StreamingResponse):
    """Starlette's `StreamingResponse` with plain asyncio tasks instead of an anyio task
    group: the stream runs until it ends or the client disconnects, whichever is first.

    Why: the first anyio task group of a process imports anyio's asyncio backend (about
    15 ms), and `queue-tui --demo` opens this stream in-process while it starts, so that
    cost landed before the first rows were painted. Same behaviour otherwise: on
    disconnect the event generator is cancelled (its `finally` unsubscribes), an error
    in the stream propagates, and a background task runs after a normal end.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec = scope.get("asgi", {}).get("spec_version", "2.0")
        if scope["type"] != "http" or tuple(map(int, spec.split("."))) >= (2, 4):
            await super().__call__(scope, receive, send)  # no task group on these paths
            return
        stream = asyncio.ensure_future(self.stream_response(send))
        listen = asyncio.ensure_future(self.listen_for_disconnect(receive))
        try:
            await asyncio.wait((stream, listen), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, listen):
                task.cancel()
            await asyncio.gather(stream, listen, return_exceptions=True)
        for task in (stream, listen):
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        if self.background is not None:
            await self.background()


__all__ = [
    "KEEPALIVE",
    "LIST_FILTERS",
    "EventStreamResponse",
    "HubJSONResponse",
    "error_body",
    "error_response",
    "format_sse",
    "hub_json",
    "invalid_params",
    "list_filters",
    "not_found",
]
