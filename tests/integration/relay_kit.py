"""What the relay's integration tests share: the demo hub counting its requests, a relay
under uvicorn in a thread (restartable on the same port), waiting on a condition."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from queue_tui.api.client import QueueClient
from queue_tui.config import Settings
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import DemoServer, _threaded_server, create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.relay.app import create_app as create_relay_app
from queue_tui.relay.state import Relay

HUB_TOKEN = "hub-secret-token-0123456789abcdef"
INTERVAL = 0.5
START = 1_764_000_000.0


class CountRequests:
    """Counts the hub's requests by path, and the Authorization headers it was sent."""

    def __init__(self, app: ASGIApp, counts: Counter[str], auth: set[str]) -> None:
        self.app, self.counts, self.auth = app, counts, auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counts[scope["path"]] += 1
            for key, value in scope["headers"]:
                if key == b"authorization":
                    self.auth.add(value.decode())
        await self.app(scope, receive, send)


class Hub:
    """The demo hub on a fake clock (nothing happens until the test moves it)."""

    def __init__(self, clock: FakeClock, **app_kwargs: object) -> None:
        self.counts: Counter[str] = Counter()
        self.auth: set[str] = set()
        self.clock = clock
        self.sim = QueueSimulator(7, clock)
        app = create_app(
            self.sim,
            keepalive=0.5,
            tick=0.05,
            middleware=[Middleware(CountRequests, counts=self.counts, auth=self.auth)],
            **app_kwargs,  # type: ignore[arg-type]
        )
        self.server = DemoServer(app)

    @property
    def url(self) -> str:
        return self.server.url

    def total(self) -> int:
        return sum(self.counts.values())


class RelayServer:
    """The relay's app under uvicorn in a thread (lifespan on: it polls from the start).

    `port=0` picks a free port; a relay started again on the port of a stopped one is a
    relay restart as its viewers see it (a new `Relay`: a new run, nothing remembered).
    """

    def __init__(self, relay: Relay, *, port: int = 0, **app_kwargs: object) -> None:
        import uvicorn

        self.relay = relay
        self.port = port
        #: The viewers' requests to the relay, by path.
        self.counts: Counter[str] = Counter()
        app = CountRequests(
            create_relay_app(relay, keepalive=0.5, **app_kwargs),  # type: ignore[arg-type]
            self.counts,
            set(),
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws="none",
            # Open event streams never end on their own: cut them at shutdown.
            timeout_graceful_shutdown=1,
        )
        self.server = _threaded_server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RelayServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self.thread.is_alive(), f"relay did not start on port {self.port}"
            assert time.monotonic() < deadline, "relay did not start"
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive(), "relay did not stop"


def make_relay(url: str, clock: Callable[[], float], interval: float = INTERVAL) -> Relay:
    settings = Settings(host=url, token=HUB_TOKEN, interval=interval, timeout=2.0)
    return Relay(
        QueueClient(settings),
        filters=settings.filters,
        interval=interval,
        linger=600,
        resolve_limit=30,
        clock=clock,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or 'a condition'}"
        time.sleep(0.02)


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
