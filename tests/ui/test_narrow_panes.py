"""Narrow panes and honest columns (#13), on the real dashboard and the seeded demo hub,
read from the rendered screen: at 60 columns the columns that matter stay on screen and
the filter bar keeps its status select whole; the header claims a sort only when the rows
have it; AGE, WAIT and RUN share one precision and fit their columns however old the row;
the status bar and the stats panel drop whole parts, never digits; failed rows get an
ERROR column when there is room."""

from __future__ import annotations

import re

from textual.widgets import Select

from queue_tui.api.models import Status
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.sanitize import error_headline
from queue_tui.tui.app import QueueApp
from tests.ui.conftest import DEMO_START, first_poll, make_app, poll, wait_until

from .on_screen import screen_lines, widget_lines

NARROW = (60, 20)
SMALL = (80, 24)
OVERVIEW = (120, 36)
WIDE = (160, 48)
#: What a column title looks like on the header line (a sort arrow after it, or not).
TITLE = re.compile(r"[A-Z]+(?: [▲▼])?")


def header_titles(app: QueueApp) -> list[str]:
    return TITLE.findall(widget_lines(app, app.table)[0])


def table_rows(app: QueueApp) -> list[str]:
    return widget_lines(app, app.table)[1:]


async def events_live(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.model.events_state.value == "live", "events")


class TestSixtyColumns:
    async def test_status_model_age_eta_and_id_stay_on_screen(self):
        app = make_app()
        async with app.run_test(size=NARROW) as pilot:
            await first_poll(pilot)
            titles = header_titles(app)
            assert titles == ["STATUS", "MODEL", "AGE", "ETA", "ID"], titles
            # ...all of them whole: nothing to scroll sideways to.
            assert app.table.virtual_size.width <= app.table.scrollable_content_region.width
            row = next(r for r in table_rows(app) if r.strip())
            gid = app.table.ordered_ids[0]
            assert gid[:8] in row, "the id on screen"

    async def test_the_filter_bar_keeps_every_select_whole(self):
        app = make_app()
        async with app.run_test(size=NARROW) as pilot:
            await first_poll(pilot)
            for select in app.query(Select):
                (text,) = widget_lines(app, select)
                assert text.rstrip().endswith("▼"), text
            (status,) = widget_lines(app, app.query_one("#status", Select))
            assert "active" in status
            await pilot.press("f")  # the target inputs' row on a narrow terminal
            await pilot.pause()
            line = screen_lines(app)[0]
            assert line.rstrip().endswith("▼"), line

    async def test_the_stats_panel_drops_columns_not_digits(self):
        app = make_app()
        async with app.run_test(size=NARROW) as pilot:
            await first_poll(pilot)
            await pilot.press("t")
            await pilot.pause()
            lines = widget_lines(app, app.stats_panel)
            header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["MODEL"])
            assert lines[header].split()[:3] == ["MODEL", "Q", "P"], lines[header]
            assert "/MIN" not in lines[header], "the least needed column went first"
            stats = app.stats_panel.stats
            assert stats is not None
            shown = [line for line in lines[header + 1 :] if line.strip()]
            for m in stats.by_model.values():
                line = next((ln for ln in shown if ln.split()[:1] == [m.model]), None)
                if line is None:
                    continue  # below the fold
                assert "…" not in line, line
                assert line.split()[1:3] == [str(m.queued), str(m.processing)], line


class TestHonestHeader:
    async def test_the_queue_order_claims_no_sort_and_a_chosen_column_does(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        # A finished row lingers below the rows in flight, older than the newest of them:
        # the queue order is not the age order, so "AGE ▼" would not be true.
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)

            def ages() -> list[float]:
                gens = app.table.generations
                return [gens[g].age_seconds(clock.now) for g in app.table.ordered_ids]

            for _ in range(10):  # until a finished row lingers below a younger one
                clock.advance(30)
                await poll(pilot)
                if ages() != sorted(ages(), reverse=True):
                    break
            assert ages() != sorted(ages(), reverse=True), "the queue order is not by age"
            assert not any("▼" in t or "▲" in t for t in header_titles(app))
            while app.table.sort_column != "age":
                await pilot.press("s")
            assert "AGE ▼" in header_titles(app)
            assert ages() == sorted(ages(), reverse=True), "AGE ▼: the oldest first, every row"
            await pilot.press("S")
            assert "AGE ▲" in header_titles(app)
            # s goes on through the columns, then back to the queue order.
            while app.table.sort_column != "queue":
                await pilot.press("s")
            assert not any("▼" in t or "▲" in t for t in header_titles(app))


class TestTimes:
    async def test_age_wait_and_run_have_one_precision(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            clock.advance(100)
            await poll(pilot)
            rows = [r for r in table_rows(app) if r.strip()]
            started = [g for g in app.table.generations.values() if g.started_at is not None]
            assert started, "rows whose wait is final"
            # No `1m45s` beside an `AGE 1m`: minutes and seconds never together.
            assert not any(re.search(r"\b\d+m\d\ds\b", row) for row in rows), rows

    async def test_a_very_old_row_fits_its_cells(self, clock: FakeClock, sim: QueueSimulator):
        year_ago = DEMO_START - 370 * 86400 - 3 * 3600
        sim.add_row(
            {
                "generation_id": "0ld0ld00-0000-4000-8000-000000000370",
                "model_name": "flux-1-dev",
                "media_type": "image",
                "status": "processing",
                "enqueued_at": year_ago,
                "started_at": year_ago,
            }
        )
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            row = next(r for r in table_rows(app) if "0ld0ld00" in r)
            assert row.split()[4:7] == ["370d", "0s", "370d"], row  # AGE WAIT RUN
            assert "…" not in row


class TestStatusBar:
    async def test_a_warning_and_the_event_stream_survive_at_80_and_160(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        for _ in range(2):
            sim.add_row({"generation_id": None, "status": "queued"})  # dropped rows
        for size in (NARROW, SMALL, WIDE):
            app = make_app(clock=clock, sim=sim)
            async with app.run_test(size=size) as pilot:
                await first_poll(pilot)
                await events_live(pilot)
                (line,) = widget_lines(app, app.status_bar)
                assert "…" not in line, (size, line)
                assert re.search(r"⚠ 2 (malformed )?rows dropped", line), (size, line)
                assert line.rstrip().endswith("events: live"), (size, line)
                if size != NARROW:
                    assert "⚠ 2 malformed rows dropped" in line, (size, line)


class TestErrorColumn:
    async def test_failed_rows_show_their_error_headline_when_there_is_room(self):
        app = make_app(status="failed")
        async with app.run_test(size=OVERVIEW) as pilot:
            await first_poll(pilot)
            titles = header_titles(app)
            assert titles[-2:] == ["ID", "ERROR"], titles
            rows = table_rows(app)
            for index, gid in enumerate(app.table.ordered_ids[: len(rows)]):
                gen = app.table.generations[gid]
                headline = error_headline(gen.error_message) or "—"
                assert headline[:10] in rows[index], (headline, rows[index])
        app = make_app(status="failed")
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            assert "ERROR" not in header_titles(app), "no room: it goes first"

    async def test_no_error_column_without_a_failed_row(self):
        app = make_app()
        async with app.run_test(size=OVERVIEW) as pilot:
            await first_poll(pilot)
            failed = any(g.status == Status.FAILED for g in app.table.generations.values())
            assert ("ERROR" in header_titles(app)) is failed
            assert not failed, "the seeded active view has no failed row"


async def test_a_sort_arrow_is_never_cut_off():
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await first_poll(pilot)
        for column, shown in (("eta", "ETA▲"), ("media", "MEDIA▲"), ("wait", "WAIT ▼")):
            app.table.set_sort(column)  # (its first direction)
            await pilot.pause()
            header = widget_lines(app, app.table)[0]
            assert shown in header and "…" not in header, header
