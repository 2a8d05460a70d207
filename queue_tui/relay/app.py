"""The relay's HTTP face: the hub's read API answered from `Relay`, `/api/events` with ids
and replay, `/healthz`, `/metrics`; the viewer-token check; `serve` (uvicorn).

Answers are shaped like the hub's (`queue_tui.api.wire`: its JSON, error envelope and
SSE framing), so every existing client works pointed at the relay. Every answer carries
`X-Queue-Tui-Relay: <version>` (a client can tell it talks to a relay) and
`X-Queue-Tui-Relay-Upstream` (its own link to the hub: `ok`, or `stale 42s (unreachable)`;
viewers' status bars show it).

Security: the hub token lives in the relay's `QueueClient` and is never copied into an
answer, a log line or a metric (pass-through bodies are redacted of it too). Viewer
tokens (`ViewerTokens`) are checked as `Authorization: Bearer` on every request; the
write endpoints answer 405 unless actions are allowed, and then are forwarded with the
hub token and logged with the viewer token's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from queue_tui import __version__
from queue_tui.api.client import RELAY_ACTIONS_HEADER, RELAY_HEADER, RELAY_UPSTREAM_HEADER
from queue_tui.api.errors import QueueError, UnreachableError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import API_MEDIA_TYPES, API_STATUSES, Generation
from queue_tui.api.wire import (
    KEEPALIVE,
    EventStreamResponse,
    HubJSONResponse,
    error_body,
    error_response,
    format_sse,
    hub_json,
    list_filters,
    not_found,
)
from queue_tui.logsetup import RedactingFilter, redact
from queue_tui.relay.state import GAP_EVENT, Emitted, Relay
from queue_tui.sanitize import clean

log = logging.getLogger(__name__)

DEFAULT_BIND = "127.0.0.1:8790"


# -- viewer tokens ---------------------------------------------------------------------------


class ViewerTokenError(ValueError):
    """A viewer-token file that cannot be used (the message says where)."""


@dataclass(frozen=True)
class ViewerTokens:
    """Token -> the viewer's name. The file holds one `name:token` per line (a bare
    token is named after its line); blank lines and `#` comments are skipped."""

    by_token: dict[str, str]

    @classmethod
    def load(cls, path: str | Path) -> ViewerTokens:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ViewerTokenError(f"--viewer-token-file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ViewerTokenError(f"--viewer-token-file {path}: not UTF-8 text") from None
        tokens: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, token = line.partition(":")
            if not sep:
                name, token = f"line {number}", name
            name, token = name.strip(), token.strip()
            if len(token) < 16:
                raise ViewerTokenError(
                    f"--viewer-token-file {path}, line {number}: a token needs 16 characters"
                    " or more"
                )
            tokens[token] = clean(name, max_len=60) or f"line {number}"
        if not tokens:
            raise ViewerTokenError(f"--viewer-token-file {path}: no token in it")
        return cls(tokens)

    def who(self, authorization: str | None) -> str | None:
        """The viewer's name for an `Authorization` header, None when it is not one of
        the tokens (compared in constant time)."""
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        value = value.strip().encode()
        found = None
        for token, name in self.by_token.items():
            if hmac.compare_digest(token.encode(), value):
                found = name
        return found


def _plain_error(status: int, error_type: str, title: str, send_headers: list) -> tuple:
    body = hub_json(error_body(error_type, title))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *send_headers,
    ]
    return body, headers


class RelayGate:
    """ASGI middleware: the relay headers on every answer (its version, its link to the
    hub as `upstream` says it at that moment, whether it forwards actions), and the
    viewer-token check (401 in the hub's error envelope) before anything else runs."""

    def __init__(
        self,
        app: ASGIApp,
        tokens: ViewerTokens | None,
        upstream: Callable[[], str],
        allow_actions: bool = False,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.upstream = upstream
        self.actions = (RELAY_ACTIONS_HEADER.lower().encode(), b"on" if allow_actions else b"off")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = (RELAY_HEADER.lower().encode(), __version__.encode())
        if self.tokens is not None:
            auth = None
            for key, value in scope.get("headers", []):
                if key == b"authorization":
                    auth = value.decode("latin-1")
            viewer = self.tokens.who(auth)
            if viewer is None:
                body, headers = _plain_error(
                    401,
                    "unauthorized",
                    "this relay needs a viewer token: Authorization: Bearer <token>",
                    # (Not the upstream's state: that is for viewers only.)
                    [(b"www-authenticate", b'Bearer realm="queue-tui relay"'), header],
                )
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            scope.setdefault("state", {})["viewer"] = viewer

        async def with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                upstream = (
                    RELAY_UPSTREAM_HEADER.lower().encode(),
                    self.upstream().encode("ascii", "replace"),
                )
                headers = [*message.get("headers", []), header, upstream, self.actions]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_header)


# -- the routes ------------------------------------------------------------------------------


def _relay(request: Request) -> Relay:
    return request.app.state.relay


def _asked(request: Request) -> QueueFilters | Response:
    """The queue's filters from the query, or the hub's 422 for a bad value."""
    values = list_filters(request.query_params, statuses=API_STATUSES, media_types=API_MEDIA_TYPES)
    return values if isinstance(values, Response) else QueueFilters(**values)


def _upstream_error(error: QueueError) -> Response:
    # 502: the viewer's request was fine; the hub behind the relay was not (a viewer's
    # client treats it as a passing server fault and retries).
    return error_response(502, f"upstream_{error.kind}", f"the hub: {error.message}")


def _unhealthy(relay: Relay) -> Response | None:
    healthy, why = relay.health()
    if healthy:
        return None
    return error_response(503, "relay_stale", f"the relay has no fresh answer: {why}")


def _rows(rows: list[Generation]) -> Response:
    return HubJSONResponse({"count": len(rows), "generations": [g.to_api() for g in rows]})


async def list_queue(request: Request) -> Response:
    relay = _relay(request)
    asked = _asked(request)
    if isinstance(asked, Response):
        return asked
    if relay.covers(asked):
        return _unhealthy(relay) or _rows(relay.answer_list(asked))
    try:
        return _rows(await relay.fetch_upstream(asked))
    except QueueError as error:
        return _upstream_error(error)


async def get_generation(request: Request) -> Response:
    relay = _relay(request)
    gid = request.path_params["generation_id"]
    known = relay.known(gid)
    if known is False:
        return not_found()
    if isinstance(known, Generation):
        return HubJSONResponse(known.to_api())
    try:
        row = await relay.get_upstream(gid)
    except QueueError as error:
        return _upstream_error(error)
    return not_found() if row is None else HubJSONResponse(row.to_api())


async def healthz(request: Request) -> Response:
    relay = _relay(request)
    healthy, why = relay.health()
    body = {
        "status": "ok" if healthy else "unhealthy",
        "reason": why,
        "last_good_poll": relay.last_good,
        "interval": relay.interval,
        "event_stream": relay.watcher.events_state.value,
        "viewers": relay.log.viewers,
    }
    return HubJSONResponse(body, status_code=200 if healthy else 503)


async def metrics(request: Request) -> Response:
    relay = _relay(request)
    relay.metrics.viewers.set(relay.log.viewers)
    relay.metrics.observe_queue(relay.last_rows, relay.clock())  # ages as of now
    return Response(relay.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


async def stream_events(request: Request) -> Response:
    relay = _relay(request)
    events = relay.log
    # Subscribed before the replay is read: nothing published in between is lost (no
    # await separates the two).
    queue = events.subscribe()
    relay.metrics.viewers.set(events.viewers)
    replay, gap = events.since(request.headers.get("last-event-id"))
    keepalive: float = request.app.state.keepalive

    async def stream() -> AsyncIterator[bytes]:
        sent = 0
        try:
            head = bytearray(b"retry: 2000\n\n")
            if gap:
                relay.metrics.replay_gaps.inc()
                oldest = events.event_id(replay[0]) if replay else None
                note = {
                    "last_event_id": clean(request.headers.get("last-event-id", ""), max_len=80),
                    "oldest_available": oldest,
                    "reason": "events were missed: the id is older than the relay's replay "
                    "buffer, or from an earlier run of the relay; what the buffer holds "
                    "follows, ask the queue for the rest",
                }
                head += format_sse(GAP_EVENT, note, f"{events.run_id}-0")
            for item in replay:
                head += _sse(events.event_id(item), item)
                sent = item.seq
            yield bytes(head)
            while True:
                try:
                    async with asyncio.timeout(keepalive):
                        item = await queue.get()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                if item is None:
                    return  # too slow: dropped; it reconnects and replays
                if item.seq > sent:
                    sent = item.seq
                    yield _sse(events.event_id(item), item)
        finally:
            events.unsubscribe(queue)
            relay.metrics.viewers.set(events.viewers)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return EventStreamResponse(stream(), media_type="text/event-stream", headers=headers)


def _sse(event_id: str, item: Emitted) -> bytes:
    return format_sse(item.event, item.data, event_id)


async def pass_through(request: Request) -> Response:
    """History and model prices: the hub's answer as it is (redacted of the hub token),
    shared by every viewer asking the same for one interval."""
    relay = _relay(request)
    client = relay.client
    path, query = request.url.path, str(request.url.query)
    if client.settings.token_is_insecure:
        return error_response(502, "upstream_insecure", "the relay may not send its token here")

    async def fetch() -> tuple[int, str, bytes]:
        relay.metrics.upstream_requests.labels("viewer-pass-through").inc()
        try:
            response = await client.http.get(path, params=httpx.QueryParams(query))
        except httpx.HTTPError as exc:
            raise UnreachableError(f"cannot reach the hub ({type(exc).__name__})") from None
        body = response.content[: client.settings.max_body_bytes]
        text = redact(body.decode("utf-8", "replace"), [client.settings.token])
        return response.status_code, response.headers.get("content-type", ""), text.encode()

    try:
        status, content_type, body = await relay.upstream.ask(("raw", path, query), fetch)
    except QueueError as error:
        return _upstream_error(error)
    return Response(body, status_code=status, media_type=content_type or None)


async def refuse_action(request: Request) -> Response:
    return error_response(
        405,
        "read_only",
        "this relay is read-only: cancel and resubmit on the hub itself "
        "(or start the relay with --allow-actions)",
    )


async def forward_action(request: Request) -> Response:
    """A cancel, an enqueue or a retry, sent on with the hub token; logged with the
    viewer token's name (never its value)."""
    relay = _relay(request)
    client = relay.client
    viewer = request.scope.get("state", {}).get("viewer", "anonymous")
    if client.settings.token_is_insecure:
        return error_response(502, "upstream_insecure", "the relay may not send its token here")
    body = await request.body()
    headers = {"content-type": request.headers.get("content-type", "application/json")}
    relay.metrics.upstream_requests.labels("viewer-action").inc()
    try:
        response = await client.http.request(
            request.method, request.url.path, content=body, headers=headers
        )
    except httpx.HTTPError as exc:
        return error_response(502, "upstream_unreachable", f"the hub: {type(exc).__name__}")
    log.info(
        "action by %s: %s %s -> %d",
        viewer,
        request.method,
        clean(request.url.path, max_len=200),
        response.status_code,
    )
    text = redact(response.content.decode("utf-8", "replace"), [client.settings.token])
    return Response(
        text.encode(),
        status_code=response.status_code,
        media_type=response.headers.get("content-type") or None,
    )


def create_app(
    relay: Relay,
    *,
    tokens: ViewerTokens | None = None,
    allow_actions: bool = False,
    keepalive: float = 15.0,
    run: bool = True,
) -> Starlette:
    """The relay's app; with `run`, its lifespan runs the relay's loop (poll, stream)."""
    action = forward_action if allow_actions else refuse_action
    routes = [
        Route("/api/ai/queue", list_queue, methods=["GET"]),
        Route("/api/ai/queue", action, methods=["POST"]),
        Route("/api/ai/queue/{generation_id}", get_generation, methods=["GET"]),
        Route("/api/ai/queue/{generation_id}", action, methods=["DELETE"]),
        Route("/api/ai/queue/{generation_id}/retry", action, methods=["POST"]),
        Route("/api/ai/generations", pass_through, methods=["GET"]),
        Route("/api/ai/generations/{generation_id}", pass_through, methods=["GET"]),
        Route("/api/ai/models/{model_id}", pass_through, methods=["GET"]),
        Route("/api/events", stream_events, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(relay.run()) if run else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await relay.client.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.relay = relay
    app.state.keepalive = float(keepalive)
    return RelayGate(app, tokens, relay.upstream_note, allow_actions)  # type: ignore[return-value]


# -- serving ---------------------------------------------------------------------------------


class BindError(ValueError):
    """A `--bind` that cannot be used, or one that needs a viewer token."""


def parse_bind(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8790` for IPv6) -> (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        raise BindError(
            f"--bind {clean(text, max_len=80)}: expected HOST:PORT, e.g. {DEFAULT_BIND}"
        )
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, tokens: ViewerTokens | None, public: bool) -> None:
    """Beyond loopback, viewers must show a token, unless the operator says `--public`."""
    if is_loopback(host) or tokens is not None or public:
        return
    raise BindError(
        f"--bind {clean(host, max_len=80)} is reachable beyond this machine: give "
        "--viewer-token-file FILE (viewers send a token as a Bearer token), or --public"
    )


def serve(
    relay: Relay,
    host: str,
    port: int,
    *,
    tokens: ViewerTokens | None = None,
    allow_actions: bool = False,
    log_level: str = "info",
) -> None:
    """Serve until interrupted (uvicorn handles SIGINT/SIGTERM)."""
    import uvicorn

    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    relay_log = logging.getLogger("queue_tui.relay")
    relay_log.addHandler(handler)
    relay_log.setLevel(logging.INFO)
    app = create_app(relay, tokens=tokens, allow_actions=allow_actions)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # A line per viewer poll would drown the relay's own lines; /metrics counts them.
        access_log=False,
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=2,
    )


__all__ = [
    "DEFAULT_BIND",
    "RELAY_HEADER",
    "BindError",
    "RelayGate",
    "ViewerTokenError",
    "ViewerTokens",
    "check_bind",
    "create_app",
    "is_loopback",
    "parse_bind",
    "serve",
]
