"""The status bar repaints only the cells that change (bytes over ssh), and a change of
height (a fault line appearing) still lays the screen out again."""

from __future__ import annotations

from collections import Counter

from textual.app import App, ComposeResult

from queue_tui.core.status import StatusState
from queue_tui.tui.widgets.status_bar import StatusBar
from tests.ui.on_screen import widget_lines


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar(id="bar")


def state(**changes: object) -> StatusState:
    base: dict[str, object] = dict(
        host="https://hub.oxen.ai",
        since_ok=0.0,
        counts=Counter({"processing": 14, "queued": 486}),
        shown=500,
        total=500,
        polls=3,
    )
    base.update(changes)
    return StatusState(**base)  # type: ignore[arg-type]


async def test_new_counts_repaint_only_the_counts() -> None:
    app = BarApp()
    async with app.run_test(size=(80, 5)) as pilot:
        bar = app.query_one(StatusBar)
        bar.set_state(state())
        await pilot.pause()
        assert "▶14" in bar.text
        bar.set_state(state(counts=Counter({"processing": 15, "queued": 485})))
        await pilot.pause()
        assert "▶15" in bar.text and "◷485" in bar.text
        regions = bar.last_repaint
        assert regions is not None, "same height: a partial repaint"
        assert sum(r.width for r in regions) <= 8, regions
        # The same state again writes nothing.
        assert bar.set_state(state(counts=Counter({"processing": 15, "queued": 485}))) is False


async def test_a_fault_line_repaints_the_whole_bar() -> None:
    app = BarApp()
    async with app.run_test(size=(80, 5)) as pilot:
        bar = app.query_one(StatusBar)
        bar.set_state(state())
        await pilot.pause()
        bar.set_state(state(error="hub unreachable: connection refused", retry_in=4.0))
        await pilot.pause()
        assert bar.size.height == 2, "laid out again at the new height"
        lines = widget_lines(app, bar)
        assert "connection refused" in lines[0] and "hub.oxen.ai" in lines[1]
        assert "connection refused" in bar.fault_text
