"""Fixtures for integration tests: the demo hub on a real loopback socket.

``demo_server`` is a started :class:`~queue_tui.demo.server.DemoServer` serving a fresh
simulator (seed 7) on a :class:`~queue_tui.demo.clock.FakeClock`: nothing changes until a
test moves ``demo_server.clock`` (also the ``fake_clock`` fixture), e.g.
``fake_clock.advance(60)``.  Its event stream sends ``: keep-alive`` every 0.5 s.

One uvicorn server runs for the whole session (starting and stopping one per test costs
~0.2 s); each test gets its own simulator swapped in behind it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import DemoServer
from queue_tui.demo.simulator import QueueSimulator

DEMO_SEED = 7
DEMO_START = 1_764_000_000.0
DEMO_KEEPALIVE = 0.5
DEMO_TICK = 0.05


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def _demo_hub() -> Iterator[DemoServer]:
    sim = QueueSimulator(DEMO_SEED, FakeClock(DEMO_START))
    with DemoServer(sim=sim, keepalive=DEMO_KEEPALIVE, tick=DEMO_TICK) as server:
        yield server


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(DEMO_START)


@pytest.fixture
def demo_sim(fake_clock: FakeClock) -> QueueSimulator:
    return QueueSimulator(DEMO_SEED, fake_clock)


@pytest.fixture
def demo_server(_demo_hub: DemoServer, demo_sim: QueueSimulator) -> Iterator[DemoServer]:
    state = _demo_hub.app.state
    saved = {
        "keepalive": state.keepalive,
        "tick": state.tick,
        "other_event_rate": state.other_event_rate,
    }
    _demo_hub.sim = demo_sim
    try:
        yield _demo_hub
    finally:
        for key, value in saved.items():
            setattr(state, key, value)


@pytest.fixture
def demo_url(demo_server: DemoServer) -> str:
    return demo_server.url
