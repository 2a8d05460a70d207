"""Driving the real dashboard in-process against the seeded demo hub.

The simulator and the app share one `FakeClock`: nothing moves until a test calls
`clock.advance(...)`. Polls are triggered with the refresh action and awaited through
`poll()`, which waits for the app to have handled the resulting message, so no test
depends on the poll interval (set to a minute so the timer never fires on its own).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.client import FetchResult, QueueClient
from queue_tui.config import Settings
from queue_tui.core.filters import QueueFilters
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.app import QueueApp

DEMO_SEED = 7
DEMO_START = 1_764_000_000.0
#: A latency that does not vary from run to run, for snapshots.
STEADY_LATENCY = 0.042
#: Upper bound on waiting for one poll to land (a guard, not a timing assertion).
POLL_WAIT = 10.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.ui)


class SteadyClient(QueueClient):
    """The real client, reporting a constant latency (so screenshots are stable) and
    remembering the query parameters of every request it sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent_params: list[dict[str, str]] = []

        async def remember(request: httpx.Request) -> None:
            self.sent_params.append(dict(request.url.params))

        self.http.event_hooks["request"].append(remember)

    async def fetch(self, filters: QueueFilters | None = None) -> FetchResult:
        result = await super().fetch(filters)
        return dataclasses.replace(result, latency=STEADY_LATENCY)


def demo_settings(**filters: str) -> Settings:
    # A long interval: the tests decide when polls happen (refresh), never the timer.
    return Settings(demo=True, interval=60.0, filters=QueueFilters(**filters))


def make_app(
    *,
    clock: FakeClock | None = None,
    sim: QueueSimulator | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    settings: Settings | None = None,
    **filters: str,
) -> QueueApp:
    """A QueueApp on the seeded demo hub (or on `transport`), frozen at `clock`."""
    clock = clock or FakeClock(DEMO_START)
    settings = settings or demo_settings(**filters)
    if transport is None:
        sim = sim or QueueSimulator(DEMO_SEED, clock)
        transport = StreamingASGITransport(create_app(sim))
    client = SteadyClient(settings, transport=transport)
    app = QueueApp(settings, client=client, clock=clock)
    app.sim = sim  # type: ignore[attr-defined]
    return app


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_WAIT
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)
    await pilot.pause()


async def first_poll(pilot: Pilot) -> None:
    """Wait for the poll the app makes on start-up."""
    app = pilot.app
    await wait_until(pilot, lambda: app.polls + app.failures > 0, "the first poll")


async def poll(pilot: Pilot) -> None:
    """Trigger one poll now (the refresh action) and wait until the app handled it."""
    app = pilot.app
    seen = app.polls + app.failures
    app.action_refresh()
    await wait_until(pilot, lambda: app.polls + app.failures > seen, "a poll")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEMO_START)


@pytest.fixture
def sim(clock: FakeClock) -> QueueSimulator:
    return QueueSimulator(DEMO_SEED, clock)
