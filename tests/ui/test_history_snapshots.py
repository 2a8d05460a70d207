"""Snapshots of the History view (`H`) and its summary (`s`) on the seeded demo hub at a
frozen clock, at 80x24 and wide. Regenerate with `--snapshot-update` (see
tests/ui/test_snapshots.py) and look at the SVGs before committing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import Input

from queue_tui.tui.screens.history import HistoryScreen
from tests.ui.conftest import first_poll, make_app, wait_until

SMALL = (80, 24)
WIDE = (160, 48)


def history(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """run_before: the first poll, `H`, the first page on screen, then `keys`."""

    async def run_before(pilot: Pilot) -> None:
        for widget in pilot.app.query(Input):
            widget.cursor_blink = False
        await first_poll(pilot)
        await pilot.press("H")
        screen = pilot.app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_until(pilot, lambda: bool(screen.rows) and not screen.fetching, "a page")
        for key in keys:
            await pilot.press(key)
            await wait_until(pilot, lambda: not screen.fetching, "the page asked for")
        await pilot.pause()

    return run_before


class TestHistoryView:
    def test_80x24_history_newest_first_with_cost_user_and_the_hubs_totals(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=history("j"))

    def test_wide_history_beside_its_detail_pane(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=history())


class TestSummary:
    def test_80x24_summary_takes_the_tables_place(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=history("a", "s"))

    def test_wide_summary_beside_the_table(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=history("s"))
