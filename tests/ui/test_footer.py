"""The footer is one widget that draws the keys itself: clicking a key presses it, the
line follows focus without mounting anything, and narrow terminals drop the obvious keys."""

from __future__ import annotations

import re

from rich.cells import cell_len
from textual.pilot import Pilot

from queue_tui.tui.app import QueueApp
from queue_tui.tui.screens.detail import DetailScreen
from queue_tui.tui.widgets.footer import NARROW_HIDDEN, DashboardFooter, FooterKey
from tests.ui.conftest import first_poll, make_app
from tests.ui.on_screen import widget_lines


def footer_of(app: QueueApp) -> DashboardFooter:
    return app.screen.query_one(DashboardFooter)


def actions(footer: DashboardFooter) -> list[str]:
    return [item.action for item in footer.shown_keys()]


def label(key: FooterKey) -> str:
    return f"{key.display} {key.description}" if key.description else key.display


def shown_line(footer: DashboardFooter) -> str:
    """The footer's line as the screen shows it."""
    return widget_lines(footer.app, footer)[0]


def key_span(footer: DashboardFooter, key: FooterKey) -> tuple[int, int]:
    """Where the footer's line on screen shows `key` (its cells [start, end))."""
    line = shown_line(footer)
    match = re.search(rf"(?:^| |▏){re.escape(label(key))}(?= |$)", line)
    assert match is not None, (label(key), line)
    end = cell_len(line[: match.end()])
    return end - cell_len(label(key)), end


async def click_key(pilot: Pilot, footer: DashboardFooter, action: str) -> None:
    key = next(k for k in footer.shown_keys() if k.action == action)
    await pilot.click(DashboardFooter, offset=(key_span(footer, key)[0], 0))
    await pilot.pause()


async def test_clicking_a_key_runs_its_action_and_clicking_between_keys_does_nothing():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        footer = footer_of(app)
        assert not app.stats_visible
        await click_key(pilot, footer, "toggle_stats")
        assert app.stats_visible
        await click_key(pilot, footer, "toggle_stats")
        assert not app.stats_visible
        # The space after the last key is no key.
        _, end = key_span(footer, footer.shown_keys()[-1])
        await pilot.click(DashboardFooter, offset=(end + 1, 0))
        await pilot.pause()
        assert not app.stats_visible and app.screen is footer.screen


async def test_the_line_follows_focus_without_mounting_widgets():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        footer = footer_of(app)
        assert "focus_table" not in actions(footer)  # the table has focus
        await pilot.press("slash")  # focus moves to the search box
        await pilot.pause()
        assert "focus_table" in actions(footer)
        assert "esc Back to table" in str(footer.render())
        assert len(footer.children) == 0


async def test_narrow_drops_the_obvious_keys_wide_shows_them_and_the_palette_on_the_right():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        footer = footer_of(app)
        narrow = actions(footer)
        assert {"cancel_generation", "toggle_stats", "help", "quit"} <= set(narrow)
        assert not NARROW_HIDDEN & set(narrow)
        # The last key is whole on screen, not cut at the edge.
        line = shown_line(footer).rstrip()
        assert line.endswith(label(footer.shown_keys()[-1])), line

        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        footer = footer_of(app)
        line = str(footer.render())
        wide = actions(footer)
        assert {"refresh", "toggle_pause", "command_palette"} <= set(wide)
        assert wide[-1] == "command_palette"
        assert line.endswith("▏^p palette") and len(line) == 160


async def test_the_detail_screen_has_the_same_footer_with_its_own_keys():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        footer = footer_of(app)
        assert "close" in actions(footer)
        assert "cycle_sort" not in actions(footer)
