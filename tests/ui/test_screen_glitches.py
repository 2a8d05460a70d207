"""Screen glitches (#13): what the terminal shows is the frame a full repaint draws.

The app draws to a pretend terminal (`terminal_model.capture_terminal`); replaying the
bytes it wrote (`terminal_model.Screen`) gives the cells a real terminal would show, which
must equal the current frame (`on_screen.screen_lines`, rendered afresh) wherever the
app repainted only part of a line.
"""

from __future__ import annotations

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.strip import Strip

from queue_tui.api.models import parse_generation
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.widgets.detail_pane import changed_span
from queue_tui.tui.widgets.generations_table import GenerationsTable
from tests.ui.conftest import FakeMonotonic, first_poll, poll, wait_until
from tests.ui.test_faults_ui import fault_app, status

from .on_screen import screen_lines
from .terminal_model import Screen, capture_terminal


def terminal_lines(written: list[str], size: tuple[int, int]) -> list[str]:
    """The screen a terminal shows after everything the app wrote so far."""
    screen = Screen(*size)
    screen.feed("".join(written))
    return screen.lines()


async def test_a_shorter_countdown_leaves_no_stale_characters(
    clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`retrying in 10s` -> `9s` repaints only the cells that changed; the text after
    the countdown moved one cell left, and the cell it left must be blanked (it stayed
    as `retrying in 9ss`)."""
    size = (60, 20)
    written = capture_terminal(monkeypatch)
    mono = FakeMonotonic()
    app, hub = fault_app(clock, sim, monotonic=mono)
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        # At 60 columns "· r retries now" does not fit: the countdown ends the line.
        hub.fault = status(429, b"{}", **{"retry-after": "5"})
        await poll(pilot)
        bar = app.status_bar
        assert bar.fault_text.endswith("retrying in 60s")  # (the poll interval)
        for advance, left in ((50, 10), (1, 9), (6, 3)):
            mono.advance(advance)
            await wait_until(
                pilot, lambda left=left: f"retrying in {left}s" in bar.fault_text, f"{left}s"
            )
            await pilot.pause()
            frame = screen_lines(app)[bar.region.y : bar.region.bottom]
            shown = terminal_lines(written, size)[bar.region.y : bar.region.bottom]
            assert shown == frame, f"at {left}s"
            assert shown[0].rstrip().endswith(f"retrying in {left}s")


def test_a_line_that_lost_its_tail_repaints_where_the_tail_was() -> None:
    def strip(text: str) -> Strip:
        return Strip([Segment(text)])

    # The tail moved one cell left: every cell from the first change to the old end.
    assert changed_span(strip("in 10s"), strip("in 9s")) == (3, 6)
    assert changed_span(strip("in 9s"), strip("in 10s")) == (3, 6)
    assert changed_span(strip("ab"), strip("abc")) == (2, 3)


class NarrowTableApp(App[None]):
    """The dashboard's table alone, narrower than its always-shown columns (the real
    dashboard keeps them on screen down to its minimum width): it scrolls sideways."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield GenerationsTable(clock=self.clock)


async def test_after_scrolling_sideways_header_and_rows_stay_aligned(
    clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = (36, 12)
    written = capture_terminal(monkeypatch)
    app = NarrowTableApp(clock)
    async with app.run_test(size=size) as pilot:
        table = app.query_one(GenerationsTable)
        rows = [parse_generation(r) for r in sim.list()]
        table.apply_rows(rows, clock.now)
        await pilot.pause()
        assert table.virtual_size.width > table.scrollable_content_region.width
        # The frames a sideways scroll animates through: x=0.6 (drawn), then x=1.
        for x in (0.6, 1.0):
            table.scroll_to(x=x, animate=False)
            await pilot.pause()
        # Time passes and the running rows' RUN cells repaint (only those cells).
        for _ in range(3):
            clock.advance(1)
            table.apply_rows([parse_generation(r) for r in sim.list()], clock.now)
            await pilot.pause()
        assert terminal_lines(written, size) == screen_lines(app)
        header = screen_lines(app)[0]
        assert header.startswith("STATUS"), "scrolled one column: the header moved too"
