"""The first frame: when the hub answers quickly, it already shows rows (one paint at
start-up, no empty table a moment before); a slow hub never holds the screen back
longer than `FIRST_FRAME_WAIT`, and its rows come when they come."""

from __future__ import annotations

import httpx

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import DEMO_SEED, DEMO_START, frozen_demo_app
from queue_tui.tui import app as app_module

from .conftest import GatedTransport, make_app, wait_until


def queue_listings(request: httpx.Request) -> bool:
    return request.url.path == "/api/ai/queue"


async def test_a_quick_first_page_is_in_the_first_frame(monkeypatch) -> None:
    # "Quick" is the app's wait (0.25 s); on a loaded test machine the in-process hub
    # may need longer, so here the wait outlasts it: the point is what the frame shows.
    monkeypatch.setattr(app_module, "FIRST_FRAME_WAIT", 10.0)
    app = make_app()
    async with app.run_test(size=(80, 24)):
        # `run_test` hands over once the app has mounted, before anything else runs:
        # the first page has been applied by then, so the first frame had the rows.
        assert app.polls == 1
        assert app.table.row_count > 0
        assert app.table.cursor_id is not None


async def test_a_slow_hub_gets_the_empty_frame_first_then_its_rows(monkeypatch) -> None:
    monkeypatch.setattr(app_module, "FIRST_FRAME_WAIT", 0.05)
    clock = FakeClock(DEMO_START)
    sim = QueueSimulator(DEMO_SEED, clock)
    transport = GatedTransport(
        StreamingASGITransport(create_app(sim, events=False)), queue_listings
    )
    app = frozen_demo_app(clock=clock, transport=transport)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.polls == 0 and app.table.row_count == 0
        await pilot.pause()
        assert app.is_running and app.screen is app.table.screen, "the dashboard, empty"
        transport.gate.set()
        await wait_until(pilot, lambda: app.table.row_count > 0, "the first rows")
        assert app.polls == 1
