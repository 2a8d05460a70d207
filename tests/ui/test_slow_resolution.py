"""A slow hub answering the follow-up requests (the history backfill, resolving rows
that left the queue) never holds the page back: the rows are on screen first, and what
the follow-up learns is shown when it arrives."""

from __future__ import annotations

import httpx
from textual.pilot import Pilot

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import DEMO_SEED, DEMO_START, frozen_demo_app

from .conftest import GatedTransport, wait_until


def finished_lists(request: httpx.Request) -> bool:
    """The requests for finished rows (history backfill, resolution)."""
    return request.url.params.get("status") in ("succeeded", "failed", "cancelled")


async def settle(pilot: Pilot) -> None:
    for _ in range(5):
        await pilot.pause(0.02)


async def test_first_rows_show_before_the_history_backfill_answers() -> None:
    clock = FakeClock(DEMO_START)
    sim = QueueSimulator(DEMO_SEED, clock)
    transport = GatedTransport(
        StreamingASGITransport(create_app(sim, events=False)), finished_lists
    )
    app = frozen_demo_app(clock=clock, transport=transport)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.table.row_count > 0, "the first rows")
        await wait_until(pilot, lambda: transport.held > 0, "the backfill's request")
        assert app.polls == 1
        assert not app.model.tracker.history, "the backfill has not answered yet"
        transport.gate.set()
        await wait_until(pilot, lambda: bool(app.model.tracker.history), "the backfill")
        # The stats follow the backfilled history (finished rows -> throughput).
        await wait_until(
            pilot,
            lambda: (app.model.stats.overall.completions_per_min or 0) > 0,
            "stats from the history",
        )


async def test_a_vanished_row_is_resolved_after_the_page_is_shown() -> None:
    clock = FakeClock(DEMO_START)
    sim = QueueSimulator(DEMO_SEED, clock)
    transport = GatedTransport(
        StreamingASGITransport(create_app(sim, events=False)), finished_lists
    )
    app = frozen_demo_app(clock=clock, transport=transport)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.table.row_count > 0, "the first rows")
        transport.gate.set()
        await wait_until(pilot, lambda: bool(app.model.tracker.history), "the backfill")
        transport.gate.clear()
        gid = next(g for g in app.table.ordered_ids if app.table.generations[g].status == "queued")
        assert sim.cancel(gid)
        held = transport.held
        seen = app.polls
        app.action_refresh()  # not `poll()`: that waits for the follow-up, gated here
        await wait_until(pilot, lambda: app.polls > seen, "the poll")
        await settle(pilot)
        # The page is shown (the row left the queue: "… finishing") while its outcome
        # is still being asked for.
        assert transport.held > held
        assert app.table.cell_text(gid, "status") == "… finishing"
        transport.gate.set()
        await wait_until(
            pilot, lambda: app.table.cell_text(gid, "status") == "⊘ cancelled", "the outcome"
        )
