"""Snapshots of the lifecycle views: finished rows, the stats panel, cancel, read-only.

Same ground rules as `test_snapshots.py`: the seeded demo hub on a frozen clock, fixed
sizes, toasts cleared before the picture (their timeouts run on a real clock).
Regenerate with `--snapshot-update` and look at the SVGs before committing them.

Where the hub works for a while (the clock moves), it serves no event stream: outcomes
then come only from the status queries, request by request, while stream events would
arrive whenever the in-process stream gets to them, so the numbers would vary from run
to run. The status bar says "events: off" in those pictures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.config import Settings
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import DEMO_SEED, FROZEN_INTERVAL
from queue_tui.tui.app import QueueApp
from tests.ui.conftest import DEMO_START, first_poll, make_app, poll, wait_until

SMALL = (80, 24)
OVERVIEW = (120, 36)
WIDE = (160, 48)

Step = Callable[[Pilot], Awaitable[None]]


def settled(*then: Step) -> Step:
    async def run_before(pilot: Pilot) -> None:
        for widget in pilot.app.query(Input):
            widget.cursor_blink = False
        await first_poll(pilot)
        settled_states = ("live", "unavailable")
        await wait_until(
            pilot, lambda: pilot.app.model.events_state.value in settled_states, "the event stream"
        )
        for step in then:
            await step(pilot)
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


def work_for(seconds: float, step: float = 30.0) -> Step:
    """The hub works for `seconds` (the frozen clock moves), polled every `step`."""

    async def run(pilot: Pilot) -> None:
        for _ in range(int(seconds // step)):
            pilot.app.clock.advance(step)  # type: ignore[attr-defined]
            await poll(pilot)

    return run


def press(*keys: str) -> Step:
    async def run(pilot: Pilot) -> None:
        await pilot.press(*keys)
        await pilot.pause()

    return run


def select(gid: str) -> Step:
    async def run(pilot: Pilot) -> None:
        assert pilot.app.table.select_id(gid)  # type: ignore[attr-defined]
        await pilot.pause()

    return run


def streamless_app() -> tuple[QueueApp, QueueSimulator]:
    """The frozen demo app on a hub without an event stream, and that hub's simulator."""
    clock = FakeClock(DEMO_START)
    sim = QueueSimulator(DEMO_SEED, clock)
    transport = StreamingASGITransport(create_app(sim, events=False))
    return make_app(clock=clock, transport=transport), sim


def row(gid: str, model: str, **extra: Any) -> dict[str, Any]:
    return {
        "generation_id": gid,
        "model_name": model,
        "media_type": "image",
        "status": "queued",
        "enqueued_at": int(DEMO_START - 40),
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "prompt": "a steaming bowl of ramen, overhead shot",
        **extra,
    }


class TestFinishedRows:
    def test_finished_rows_linger_dimmed_a_vanished_one_is_finishing_a_watched_one_has_a_star(
        self, snap_compare
    ):
        app, sim = streamless_app()
        watched, vanishing, failed, succeeded = (
            row(f"0f41ed00-0000-4000-8000-00000000000{i}", model) | {"prompt": prompt}
            for i, (model, prompt) in enumerate(
                (
                    ("imagen-4", "a glass lighthouse at dusk, watched"),
                    ("imagen-4", "a glass lighthouse at dusk, gone from the queue"),
                    ("flux-1-dev", "a glass lighthouse at dusk, 21:9"),
                    ("sdxl-turbo", "a glass lighthouse at dusk, done"),
                ),
                start=1,
            )
        )
        for r in (watched, vanishing, failed, succeeded):
            sim.add_row(r)

        async def finish(pilot: Pilot) -> None:
            now = int(pilot.app.clock())  # type: ignore[attr-defined]
            ran = {"started_at": now - 6, "completed_at": now - 1}
            error = "Invalid aspect_ratio '21:9' for model flux-1-dev"
            url = "https://hub.oxen.ai/api/repos/ox/product-shots/file/main/0f41ed00.png"
            sim.add_row(failed | ran | {"status": "failed", "error_message": error})
            sim.add_row(succeeded | ran | {"status": "succeeded", "result_url": url})

        async def vanish(pilot: Pilot) -> None:
            sim.add_row(vanishing | {"status": "cancelled", "completed_at": int(DEMO_START)})
            # Gone from the queue; a resolution round ran at this clock time already, so
            # its outcome is not asked for until the next one.
            await poll(pilot)

        assert snap_compare(
            app,
            terminal_size=OVERVIEW,
            run_before=settled(
                select(watched["generation_id"]),
                press("w"),
                finish,
                work_for(2 * FROZEN_INTERVAL, FROZEN_INTERVAL),
                vanish,
                press("slash", *"glass lighthouse", "escape"),
                select(succeeded["generation_id"]),
            ),
        )


class TestStatsPanel:
    def test_80x24_stats_take_the_tables_place(self, snap_compare):
        app, _ = streamless_app()
        assert snap_compare(app, terminal_size=SMALL, run_before=settled(work_for(300), press("t")))

    def test_wide_stats_sit_beside_the_table_with_etas(self, snap_compare):
        app, _ = streamless_app()
        assert snap_compare(app, terminal_size=WIDE, run_before=settled(work_for(300), press("t")))


class TestCancel:
    def test_80x24_cancel_asks_first(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=settled(press("C")))

    def test_80x24_read_only_footer(self, snap_compare):
        settings = Settings(demo=True, interval=FROZEN_INTERVAL, read_only=True)
        assert snap_compare(make_app(settings=settings), terminal_size=SMALL, run_before=settled())
