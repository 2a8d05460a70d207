"""The dashboard on the seeded demo hub with time stopped: for snapshots and screenshots.

The simulator and the app share one `FakeClock`, so rows, ages and relative times are
the same on every run; the client reports a constant latency; the poll interval is long
so only explicit refreshes poll. Set `TZ=UTC` (see `utc_time()`) for stable local times.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.client import FetchResult, QueueClient
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.app import QueueApp

DEMO_SEED = 7
DEMO_START = 1_764_000_000.0
#: A latency that does not vary from run to run.
STEADY_LATENCY = 0.042
#: Long enough that the timer never polls during a test or a screenshot.
FROZEN_INTERVAL = 60.0


class SteadyClient(QueueClient):
    """The real client, reporting a constant latency and remembering the query
    parameters of every request it sent (`sent_params`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent_params: list[dict[str, str]] = []

        async def remember(request: httpx.Request) -> None:
            self.sent_params.append(dict(request.url.params))

        self.http.event_hooks["request"].append(remember)

    async def fetch(self, filters: QueueFilters | None = None) -> FetchResult:
        result = await super().fetch(filters)
        return dataclasses.replace(result, latency=STEADY_LATENCY)


def frozen_settings(**filters: str | None) -> Settings:
    return Settings(demo=True, interval=FROZEN_INTERVAL, filters=QueueFilters(**filters))


def frozen_demo_app(
    *,
    clock: FakeClock | None = None,
    sim: QueueSimulator | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    settings: Settings | None = None,
    remember: bool = True,
    **filters: str | None,
) -> QueueApp:
    """A QueueApp on the seeded demo hub (or on `transport`), frozen at `clock`.

    The simulator is available as `app.sim` (None when a transport was given).
    `remember=False`: no remembered preferences read or written (the screenshots).
    """
    clock = clock or FakeClock(DEMO_START)
    settings = settings or frozen_settings(**filters)
    if transport is None:
        sim = sim or QueueSimulator(DEMO_SEED, clock)
        transport = StreamingASGITransport(create_app(sim))
    client = SteadyClient(settings, transport=transport)
    app = QueueApp(settings, client=client, clock=clock, remember=remember)
    app.sim = sim  # type: ignore[attr-defined]
    return app


@contextlib.contextmanager
def utc_time() -> Iterator[None]:
    """Local times render as UTC inside the block (same output on every machine)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
