"""Snapshot tests: the seeded demo hub at a frozen clock, fixed sizes, no cursor blink.

Regenerate with `pytest tests/ui/test_snapshots.py --snapshot-update` and look at the
SVGs in `tests/ui/__snapshots__/` (or the report pytest-textual-snapshot writes on
failure) before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import Input

from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import DEMO_SEED
from tests.ui.conftest import DEMO_START, first_poll, make_app, wait_until

OVERVIEW = (120, 36)
SMALL = (80, 24)
NARROW = (60, 20)
WIDE = (160, 48)


def settled(*then: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
    """run_before: first poll landed, no blinking cursors, then any extra steps."""

    async def run_before(pilot: Pilot) -> None:
        for widget in pilot.app.query(Input):
            widget.cursor_blink = False
        await first_poll(pilot)
        # The status bar says "events: live" once the completion stream is connected.
        await wait_until(pilot, lambda: pilot.app.model.events_state.value == "live", "events")
        for step in then:
            await step(pilot)
        await pilot.pause()

    return run_before


async def select_traceback_failure(pilot: Pilot) -> None:
    """Select the failed generation whose error is a multi-line traceback."""
    table = pilot.app.table
    gid = next(
        gid
        for gid in table.ordered_ids
        if "Traceback" in (table.generations[gid].error_message or "")
    )
    table.select_id(gid)
    await pilot.pause()


async def select_oom_failure(pilot: Pilot) -> None:
    table = pilot.app.table
    gid = next(
        gid
        for gid in table.ordered_ids
        if "out of memory" in (table.generations[gid].error_message or "")
    )
    table.select_id(gid)
    await pilot.pause()


async def search_flux(pilot: Pilot) -> None:
    await pilot.press("slash", *"flux")
    await pilot.press("escape")


class TestOverview:
    def test_overview_of_the_active_queue(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=OVERVIEW, run_before=settled())

    def test_wide_terminal_puts_the_detail_pane_on_the_right(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=settled())


class TestFailedGeneration:
    def test_failed_generation_selected_shows_its_error(self, snap_compare):
        app = make_app(status="failed")
        assert snap_compare(app, terminal_size=OVERVIEW, run_before=settled(select_oom_failure))

    def test_full_screen_detail_of_a_traceback(self, snap_compare):
        async def open_detail(pilot: Pilot) -> None:
            await pilot.press("enter")

        app = make_app(status="failed")
        assert snap_compare(
            app, terminal_size=OVERVIEW, run_before=settled(select_traceback_failure, open_detail)
        )


class TestFilters:
    def test_filters_in_use_narrow_the_rows(self, snap_compare):
        app = make_app(media_type="image", namespace="ox")
        assert snap_compare(app, terminal_size=OVERVIEW, run_before=settled(search_flux))


class TestSmallTerminal:
    def test_80x24_layout_keeps_the_table_readable(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=settled())

    def test_60x20_keeps_status_model_age_eta_and_id_and_whole_selects(self, snap_compare):
        assert snap_compare(make_app(), terminal_size=NARROW, run_before=settled())

    def test_80x24_more_filters_on_f(self, snap_compare):
        async def show_filters(pilot: Pilot) -> None:
            await pilot.press("f")

        assert snap_compare(make_app(), terminal_size=SMALL, run_before=settled(show_filters))


class TestHelp:
    def test_help_screen_lists_every_key(self, snap_compare):
        async def open_help(pilot: Pilot) -> None:
            await pilot.press("question_mark")

        assert snap_compare(make_app(), terminal_size=OVERVIEW, run_before=settled(open_help))


class TestBadFields:
    def test_80x24_a_row_with_bad_fields_shows_question_marks_and_what_was_sent(self, snap_compare):
        # A row whose enqueued_at and model_name have the wrong type: kept, its cells
        # from them show `?` (not "—"), the pane shows what the hub sent; a row with no
        # usable id is dropped. The status bar counts both.
        clock = FakeClock(DEMO_START)
        sim = QueueSimulator(DEMO_SEED, clock)
        sim.add_row(
            {
                "generation_id": "0bad0f1e-1d5c-4e0a-9c1b-7f3a2d4e5b6c",
                "model_name": ["flux"],
                "media_type": "image",
                "status": "queued",
                "enqueued_at": "yesterday",
                "target_namespace": "ox",
                "target_repo": "product-shots",
            }
        )
        sim.add_row({"generation_id": None, "status": "queued"})

        async def select_bad_row(pilot: Pilot) -> None:
            pilot.app.table.select_id("0bad0f1e-1d5c-4e0a-9c1b-7f3a2d4e5b6c")
            await pilot.pause()

        app = make_app(clock=clock, sim=sim)
        assert snap_compare(app, terminal_size=SMALL, run_before=settled(select_bad_row))
