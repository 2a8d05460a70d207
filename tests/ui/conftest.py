"""Driving the real dashboard in-process against the seeded demo hub.

The simulator and the app share one `FakeClock`: nothing moves until a test calls
`clock.advance(...)`. Polls are triggered with the refresh action and awaited through
`poll()`, which waits for the app to have handled the resulting message, so no test
depends on the poll interval (set to a minute so the timer never fires on its own).
"""

from __future__ import annotations

import asyncio
import webbrowser
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import DEMO_SEED, DEMO_START, frozen_demo_app, utc_time
from queue_tui.tui.app import QueueApp

__all__ = ["DEMO_START", "GatedTransport", "first_poll", "make_app", "poll", "wait_until"]

#: Upper bound on waiting for one poll to land (a guard, not a timing assertion).
POLL_WAIT = 10.0


class GatedTransport(httpx.AsyncBaseTransport):
    """A transport (the demo hub's) whose requests that `hold` picks wait until `gate`
    opens; `held` counts them."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, hold: Callable[[httpx.Request], bool]
    ) -> None:
        self.inner = inner
        self.hold = hold
        self.gate = asyncio.Event()
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.hold(request):
            self.held += 1
            await self.gate.wait()
        return await self.inner.handle_async_request(request)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.ui)


def make_app(**kwargs: Any) -> QueueApp:
    """The dashboard on the seeded demo hub, frozen (see `queue_tui.screenshots.frozen`)."""
    return frozen_demo_app(**kwargs)


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
    # ...and what the poll worker does after it (resolving rows that left the queue).
    await wait_until(pilot, lambda: app.follow_ups >= app.polls, "the poll's follow-up")


@pytest.fixture(autouse=True)
def utc_local_time() -> Iterator[None]:
    """Local times in the detail pane render the same on every machine."""
    with utc_time():
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEMO_START)


@pytest.fixture
def sim(clock: FakeClock) -> QueueSimulator:
    return QueueSimulator(DEMO_SEED, clock)


class FakeMonotonic:
    """A `time.monotonic` stand-in the test moves by hand (for countdowns)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def a_browser(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A desktop session with a browser: the URLs `o` hands to `webbrowser.open`
    (recorded, nothing is started)."""
    for name in ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("webbrowser.get", lambda *a: webbrowser.BackgroundBrowser("firefox"))
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    return opened


def queued_row(gid: str, enqueued_at: float, **extra: object) -> dict[str, object]:
    """A row that never progresses (injected rows are served as they are)."""
    return {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "queued",
        "enqueued_at": int(enqueued_at),
        "target_namespace": "ox",
        "target_repo": "product-shots",
        **extra,
    }
