"""The embedded demo hub: a Starlette app serving a :class:`QueueSimulator`.

Implements the hub's async-queue endpoints (see ``tests/spec``):

- ``GET /api/ai/queue`` (filters ``namespace, model, media_type, status, repo, folder``)
- ``GET /api/ai/queue/{generation_id}``
- ``DELETE /api/ai/queue/{generation_id}``
- ``POST /api/ai/queue``
- ``POST /api/ai/queue/{generation_id}/retry`` (a newer hub's; off with ``retry=False``)
- ``GET /api/ai/generations`` (the history: every row it keeps, newest first, with costs;
  ``page``/``page_size``, the page size capped at ``history_page_cap``, 100 by default;
  off with ``history=False``)
- ``GET /api/ai/generations/{generation_id}`` (one past generation, from the rows it keeps)
- ``GET /api/ai/models/{model_id}`` (a model and its prices)
- ``GET /api/events`` (Server-Sent Events, when enabled)

What clients send to ``POST`` endpoints is kept in ``sim.received`` (see
`QueueSimulator.received`).

Route handlers stay small: they parse, call the simulator, and shape the answer with
the hub's wire helpers (`queue_tui.api.wire`, shared with the relay), so cross-cutting
behaviour (auth checks, fault injection, latency) belongs in Starlette middleware passed
through ``create_app(middleware=...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from queue_tui.api.wire import (
    KEEPALIVE,
    EventStreamResponse,
    HubJSONResponse,
    error_response,
    format_sse,
    invalid_params,
    list_filters,
    not_found,
)
from queue_tui.demo.simulator import (
    MEDIA_TYPES,
    ROW_SHAPES,
    STATUSES,
    QueueSimulator,
    RetryRefused,
)

if TYPE_CHECKING:
    import uvicorn

# uvicorn is imported only to serve over a socket (DemoServer, run_server): the in-process
# hub of `queue-tui --demo` never needs it, and it is not free to import at start-up.

__all__ = [
    "COMPLETED_EVENT",
    "DemoServer",
    "create_app",
    "run_server",
]

log = logging.getLogger(__name__)

COMPLETED_EVENT = "media_generation_completed"
OTHER_EVENT = "workspace_updated"
#: The history's largest page: lower than the spec's 1000, so clients must follow
#: `total_pages` (and tests page through a few thousand rows).
HISTORY_PAGE_CAP = 100
#: The spec's default and bounds of `page_size`.
HISTORY_PAGE_SIZE = (50, 1, 1000)


def _sim(request: Request) -> QueueSimulator:
    """The app's simulator, advanced to the current time (every request does this)."""
    sim: QueueSimulator = request.app.state.sim
    sim.advance()
    return sim


# ---------------------------------------------------------------------------- handlers


def _list_filters(request: Request) -> dict[str, str | None] | Response:
    """The queue's filters from the query, or the hub's 422 for a bad value."""
    return list_filters(request.query_params, statuses=STATUSES, media_types=MEDIA_TYPES)


async def list_queue(request: Request) -> Response:
    sim = _sim(request)
    filters = _list_filters(request)
    if isinstance(filters, Response):
        return filters
    rows = sim.list(**filters, shape=request.app.state.row_shape)
    return HubJSONResponse({"count": len(rows), "generations": rows})


def _whole_number(request: Request, name: str, default: int, least: int, most: int) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not least <= int(text) <= most:
        return None
    return int(text)


async def list_history(request: Request) -> Response:
    state = request.app.state
    if not state.history_enabled:
        # An older hub: no such route at all (what Starlette answers for any other).
        return PlainTextResponse("Not Found", status_code=404)
    sim = _sim(request)
    filters = _list_filters(request)
    if isinstance(filters, Response):
        return filters
    page = _whole_number(request, "page", 1, 1, 10**9)
    if page is None:
        return invalid_params("Invalid page: must be an integer >= 1")
    default, least, most = HISTORY_PAGE_SIZE
    size = _whole_number(request, "page_size", default, least, most)
    if size is None:
        return invalid_params(f"Invalid page_size: must be an integer from {least} to {most}")
    size = min(size, state.history_page_cap)
    body = sim.history(**filters, page=page, page_size=size, shape=state.row_shape)
    return HubJSONResponse(body)


async def model_info(request: Request) -> Response:
    info = _sim(request).model_info(request.path_params["model_id"])
    if info is None:
        return error_response(404, "resource_not_found", "Model not found")
    return HubJSONResponse({"model": info, "status": "success"})


async def get_generation(request: Request) -> Response:
    shape = request.app.state.row_shape
    row = _sim(request).get(request.path_params["generation_id"], shape=shape)
    return not_found() if row is None else HubJSONResponse(row)


async def cancel_generation(request: Request) -> Response:
    generation_id = request.path_params["generation_id"]
    if not _sim(request).cancel(generation_id):
        return not_found()
    return HubJSONResponse({"status": "success", "generation_id": generation_id})


async def enqueue(request: Request) -> Response:
    sim = _sim(request)
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return invalid_params("Request body must be valid JSON")
    try:
        rows = sim.enqueue(body)
    except ValueError as exc:
        return invalid_params(str(exc))
    generations = [{"generation_id": r["generation_id"], "status": r["status"]} for r in rows]
    return HubJSONResponse({"generations": generations})


async def retry_generation(request: Request) -> Response:
    if not request.app.state.retry_enabled:
        # An older hub: no such route at all (what Starlette answers for any other).
        return PlainTextResponse("Not Found", status_code=404)
    sim = _sim(request)
    try:
        row = sim.retry(request.path_params["generation_id"], shape=request.app.state.row_shape)
    except RetryRefused as exc:
        # 409, not 422: the request is well formed; the generation's state refuses it.
        return error_response(409, "conflict", str(exc))
    if row is None:
        return not_found()
    return HubJSONResponse(row)


async def past_generation(request: Request) -> Response:
    shape = request.app.state.row_shape
    row = _sim(request).lookup(request.path_params["generation_id"], shape=shape)
    if row is None:
        return not_found()
    return HubJSONResponse({"generation": row, "status": "success"})


async def stream_events(request: Request) -> Response:
    state = request.app.state
    sim = _sim(request)
    queue = sim.subscribe()
    stream = _event_stream(
        sim,
        queue,
        stop=state.stop_event,
        keepalive=state.keepalive,
        tick=state.tick,
        rng=random.Random(state.seed * 31 + state.stream_count),
        other_rate=state.other_event_rate,
    )
    state.stream_count += 1
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return EventStreamResponse(stream, media_type="text/event-stream", headers=headers)


async def _event_stream(
    sim: QueueSimulator,
    queue: asyncio.Queue[dict[str, Any]],
    *,
    stop: threading.Event,
    keepalive: float,
    tick: float,
    rng: random.Random,
    other_rate: float,
) -> AsyncIterator[bytes]:
    """Completion events as SSE; drives the simulation so events flow without polling."""
    loop = asyncio.get_running_loop()
    next_keepalive = loop.time() + keepalive
    try:
        while not stop.is_set():
            sim.advance()
            chunk = bytearray()  # one write per tick, however many events it holds
            while True:
                try:
                    event = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                chunk += format_sse(COMPLETED_EVENT, event)
                if rng.random() < other_rate:
                    # Unrelated traffic on the same stream; clients must ignore it.
                    chunk += format_sse(OTHER_EVENT, _other_event(rng))
            now = loop.time()
            if now >= next_keepalive:
                chunk += KEEPALIVE
                next_keepalive = now + keepalive
            if chunk:
                yield bytes(chunk)
            await asyncio.sleep(max(0.0, min(tick, next_keepalive - now)))
    finally:
        sim.unsubscribe(queue)


def _other_event(rng: random.Random) -> dict[str, Any]:
    namespace, repo = rng.choice(
        [("ox", "product-shots"), ("acme-studio", "storyboards"), ("lumen", "training-data")]
    )
    revision = f"{rng.getrandbits(64):016x}"
    return {"namespace": namespace, "repo": repo, "branch": "main", "revision": revision}


# ---------------------------------------------------------------------------- app


def create_app(
    sim: QueueSimulator | None = None,
    *,
    seed: int = 7,
    clock: Callable[[], float] | None = None,
    events: bool = True,
    keepalive: float = 15.0,
    tick: float = 0.25,
    other_event_rate: float = 0.03,
    middleware: Sequence[Middleware] = (),
    chaos: float = 0.0,
    chaos_faults: Sequence[str] | None = None,
    chaos_stall: float | None = None,
    row_shape: str = "spec",
    retry: bool = True,
    history: bool = True,
    history_page_cap: int = HISTORY_PAGE_CAP,
) -> Starlette:
    """The demo hub as a Starlette app; the simulator is ``app.state.sim``.

    ``middleware`` is handed to Starlette untouched (outermost first), e.g. a
    fault-injection layer.  ``tick`` is how often an open event stream advances the
    simulation; ``other_event_rate`` is the chance of an unrelated event after each
    completion event.  ``chaos`` > 0 injects faults into that fraction of queue list
    requests (see :mod:`queue_tui.demo.chaos`): any of them, or only ``chaos_faults``;
    a ``stall`` lasts ``chaos_stall`` seconds (default: longer than a client waits).
    ``row_shape="old"`` serves every row (lists, ``status=`` lists, get-by-id) in the
    docs' older shape, without a status (see ``QueueSimulator.list``); the event stream
    keeps its own shape. ``retry=False`` is the hub of our spec, without the newer
    ``POST /api/ai/queue/{id}/retry`` (404, as for any path it lacks); also
    ``app.state.retry_enabled``, switchable while it runs. ``history=False`` is a hub
    without ``GET /api/ai/generations`` (404; ``app.state.history_enabled``), and
    ``history_page_cap`` its largest page (``app.state.history_page_cap``).
    """
    if row_shape not in ROW_SHAPES:
        raise ValueError(f"row_shape must be one of: {', '.join(ROW_SHAPES)}")
    if sim is None:
        sim = QueueSimulator(seed, clock or time.time)
    if chaos > 0:
        from queue_tui.demo.chaos import ChaosMiddleware

        options: dict[str, Any] = {}
        if chaos_faults is not None:
            options["faults"] = tuple(chaos_faults)
        if chaos_stall is not None:
            options["stall_seconds"] = chaos_stall
        chaos_layer = Middleware(ChaosMiddleware, rate=chaos, seed=sim.seed, **options)
        middleware = [chaos_layer, *middleware]
    routes = [
        Route("/api/ai/queue", list_queue, methods=["GET"]),
        Route("/api/ai/queue", enqueue, methods=["POST"]),
        Route("/api/ai/queue/{generation_id}", get_generation, methods=["GET"]),
        Route("/api/ai/queue/{generation_id}", cancel_generation, methods=["DELETE"]),
        Route("/api/ai/queue/{generation_id}/retry", retry_generation, methods=["POST"]),
        Route("/api/ai/generations", list_history, methods=["GET"]),
        Route("/api/ai/generations/{generation_id}", past_generation, methods=["GET"]),
        Route("/api/ai/models/{model_id}", model_info, methods=["GET"]),
    ]
    if events:
        routes.append(Route("/api/events", stream_events, methods=["GET"]))
    app = Starlette(routes=routes, middleware=list(middleware))
    app.state.sim = sim
    app.state.seed = sim.seed
    app.state.events_enabled = events
    app.state.row_shape = row_shape
    app.state.retry_enabled = retry
    app.state.history_enabled = history
    app.state.history_page_cap = int(history_page_cap)
    app.state.keepalive = float(keepalive)
    app.state.tick = float(tick)
    app.state.other_event_rate = float(other_event_rate)
    app.state.stop_event = threading.Event()
    app.state.stream_count = 0
    return app


# ---------------------------------------------------------------------------- serving


def _threaded_server(config: uvicorn.Config) -> uvicorn.Server:
    """A uvicorn server that leaves signal handling to the main thread."""
    import uvicorn

    class _ThreadedServer(uvicorn.Server):
        def install_signal_handlers(self) -> None:  # uvicorn < 0.29
            pass

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # uvicorn >= 0.29
            yield

    return _ThreadedServer(config)


class DemoServer:
    """Runs the demo hub on loopback in a background thread.

    >>> with DemoServer(seed=7) as server:
    ...     httpx.get(f"{server.url}/api/ai/queue")

    ``port=0`` picks a free port.  Extra keyword arguments go to :func:`create_app`
    (``chaos=``, ``row_shape="old"``...).
    """

    def __init__(
        self,
        app: Starlette | None = None,
        *,
        sim: QueueSimulator | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        log_level: str = "warning",
        startup_timeout: float = 10.0,
        **app_kwargs: Any,
    ) -> None:
        self.app = app or create_app(sim, seed=seed, clock=clock, **app_kwargs)
        self.host = host
        self.port = port
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def sim(self) -> QueueSimulator:
        return self.app.state.sim

    @sim.setter
    def sim(self, sim: QueueSimulator) -> None:
        """Swap the simulator behind a running server (new requests use the new one)."""
        self.app.state.sim = sim
        self.app.state.seed = sim.seed

    @property
    def clock(self) -> Callable[[], float]:
        """The simulator's clock (a ``FakeClock`` in tests)."""
        return self.sim.clock

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> DemoServer:
        if self._thread is not None:
            return self
        import uvicorn

        self.app.state.stop_event.clear()
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level=self.log_level,
            lifespan="off",
            ws="none",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = _threaded_server(config)
        thread = threading.Thread(target=server.run, name="queue-tui-demo-hub", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"demo hub failed to start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.app.state.stop_event.set()  # ends open event streams promptly
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_server(
    host: str = "127.0.0.1",
    port: int = 8787,
    seed: int = 7,
    events: bool = True,
    chaos: float = 0.0,
    row_shape: str = "spec",
    retry: bool = True,
    history: bool = True,
    past: int = 0,
) -> None:
    """Serve the demo hub until interrupted (``queue-tui demo-server``); ``past``
    generations are added to its history, over the day before it starts."""
    import uvicorn

    sim = QueueSimulator(seed, time.time)
    if past:
        sim.add_history(past, span=min(72_000.0, sim.retention - 3600.0))
    app = create_app(
        sim, events=events, chaos=chaos, row_shape=row_shape, retry=retry, history=history
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
