"""Remembered preferences (#13) on the real dashboard: what the user chose (theme, sort,
`h`, `d`, the columns) comes back in a second app with the same XDG_STATE_HOME; a flag
wins; a broken state file is a toast; the column chooser hides a column at once."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import SelectionList

from queue_tui.config import Settings
from queue_tui.screenshots.frozen import frozen_settings
from queue_tui.tui.app import QueueApp
from queue_tui.tui.screens.columns import ColumnChooserScreen
from tests.ui.conftest import first_poll, make_app, wait_until

from .on_screen import toasts_shown, widget_lines

SIZE = (160, 40)
TITLE = re.compile(r"[A-Z]+(?: [▲▼])?")


def header(app: QueueApp) -> list[str]:
    return TITLE.findall(widget_lines(app, app.table)[0])


async def test_choices_come_back_after_a_restart(isolated_state: Path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        default_theme = app.theme
        assert "AGE" in header(app)
        app.theme = "nord"  # as the palette's Theme entry does
        for _ in header(app):  # `s` cycles the visible columns: on to AGE
            if app.table.sort_column == "age":
                break
            await pilot.press("s")
        assert app.table.sort_column == "age"
        await pilot.press("S")
        await pilot.press("h", "d")
        await pilot.pause()
        sort_reverse = app.table.sort_reverse
        shown = header(app)
        assert any(t.startswith("AGE ") for t in shown), shown
        assert not app.model.show_finished
        assert not app.detail.display or app.detail.has_class("-hidden")
    assert isolated_state.is_file()
    assert default_theme != "nord"

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert again.theme == "nord"
        assert (again.table.sort_column, again.table.sort_reverse) == ("age", sort_reverse)
        assert header(again) == shown
        assert not again.model.show_finished
        assert again.detail.has_class("-hidden")


async def test_a_theme_flag_wins_over_the_remembered_one(isolated_state: Path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        app.theme = "nord"
        await pilot.pause()
    settings: Settings = frozen_settings()
    settings.theme = "gruvbox"
    again = make_app(settings=settings)
    async with again.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert again.theme == "gruvbox"


async def test_a_broken_state_file_is_a_toast_not_a_crash(isolated_state: Path):
    isolated_state.parent.mkdir(parents=True)
    isolated_state.write_text('{"theme": 3, "sort_column": "age"')
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await first_poll(pilot)
        shown = await toasts_shown(pilot)
        assert any("Remembered preferences ignored" in t for t in shown), shown
        assert app.table.sort_column == "queue"


async def test_the_column_chooser_hides_a_column_at_once_and_remembers(isolated_state: Path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert "MODEL" in header(app)
        await pilot.press("ctrl+p")
        await pilot.press(*"choose columns")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ColumnChooserScreen), "chooser")
        chooser = app.screen.query_one(SelectionList)
        await wait_until(pilot, lambda: chooser.has_focus, "the list focused")
        for _ in range(chooser.option_count):  # down to the MODEL line
            at = chooser.highlighted
            if at is not None and chooser.get_option_at_index(at).value == "model":
                break
            await pilot.press("down")
        await pilot.press("space")
        await wait_until(pilot, lambda: "MODEL" not in header(app), "MODEL hidden")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ColumnChooserScreen), "closed")
        titles = header(app)
        assert "MODEL" not in titles and "STATUS" in titles and "ID" in titles, titles

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert "MODEL" not in header(again)
        assert "AGE" in header(again)
