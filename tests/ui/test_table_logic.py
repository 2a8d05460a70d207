"""The table's update path in isolation: keyed diff, batch removal, coarse ticking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import STATUSES, Generation, parse_generation
from queue_tui.core.columns import COLUMNS, status_label
from queue_tui.core.dashboard import DONE, RowMark
from queue_tui.core.status import StatusState
from queue_tui.core.timefmt import fmt_coarse
from queue_tui.demo.clock import FakeClock
from queue_tui.tui.widgets.generations_table import GenerationsTable
from queue_tui.tui.widgets.status_bar import render_status
from tests.ui.on_screen import widget_lines

NOW = 1_764_000_000.0


def gen(i: int, **fields: Any) -> Generation:
    row = {
        "generation_id": f"gen-{i:05d}",
        "model_name": "flux-1-dev" if i % 2 else "veo-3-fast",
        "media_type": "image" if i % 2 else "video",
        "status": "queued",
        "enqueued_at": NOW - 1000 + i,
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "prompt": f"prompt {i}",
    }
    row.update(fields)
    return parse_generation(row)


class TableApp(App[None]):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield GenerationsTable(clock=self.clock)


def spy_refresh(table: GenerationsTable, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Record the regions of every repaint the table asks for from now on (`()`: the whole
    table; a layout-only refresh is recorded as `("layout",)`)."""
    calls: list[tuple] = []
    original = table.refresh

    def spy(*regions: object, **kwargs: object) -> object:
        calls.append(regions if kwargs.get("repaint", True) else ("layout",))
        return original(*regions, **kwargs)

    monkeypatch.setattr(table, "refresh", spy)
    return calls


def assert_consistent(table: GenerationsTable, gone: Iterable[str] = ()) -> None:
    """After batch edits the table holds exactly its rows (nothing of the rows `gone`),
    and `select_id` finds each row on its line (the selection is put back after)."""
    n = table.row_count
    ids = table.ordered_ids
    assert len(ids) == n == len(set(ids))
    assert set(ids) == set(table.generations) == table.held_ids()
    selected = table.selected_key
    for line, gid in enumerate(ids):
        assert table.select_id(gid) and table.cursor_row == line, gid
    for gid in gone:
        assert not table.select_id(gid), gid
    if selected is not None:
        table.select_id(selected)


class TestKeyedDiff:
    async def test_unchanged_rows_write_no_cells_and_one_change_writes_one_cell(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            rows = [gen(i) for i in range(50)]
            assert table.apply_rows(rows).added == 50
            again = table.apply_rows([gen(i) for i in range(50)])
            assert (again.added, again.removed, again.changed_cells) == (0, 0, 0)
            changed = [gen(i) for i in range(50)]
            changed[7] = gen(7, prompt="a different prompt")
            stats = table.apply_rows(changed)
            assert stats.changed_cells == 1
            assert table.cell_text("gen-00007", "prompt") == "a different prompt"
            await pilot.pause()
            assert_consistent(table)

    async def test_adding_and_removing_rows_never_repaints_the_whole_table(
        self, monkeypatch: pytest.MonkeyPatch
    ):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            table.apply_rows([gen(i) for i in range(300)])
            await pilot.pause()
            calls = spy_refresh(table, monkeypatch)
            table.apply_rows([gen(i) for i in range(0, 300, 3)] + [gen(i) for i in range(400, 420)])
            await pilot.pause()
            assert table.row_count == 120
            assert calls and () not in calls, "lines, never the whole table"
            assert_consistent(table, gone=[gen(i).generation_id for i in range(1, 300, 3)])

    async def test_status_change_moves_the_row_and_keeps_the_selection(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            table.set_sort("status")
            table.apply_rows([gen(i) for i in range(40)])
            table.select_id("gen-00030")
            await pilot.pause()
            rows = [gen(i) for i in range(40)]
            rows[30] = gen(30, status="processing", started_at=NOW - 5)
            table.apply_rows(rows)
            assert table.ordered_ids[0] == "gen-00030", "processing sorts first"
            assert table.cursor_id == "gen-00030"
            assert table.cell_text("gen-00030", "status") == "▶ processing"

    async def test_a_change_outside_the_sort_key_does_not_resort(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            table.apply_rows([gen(i) for i in range(40)])
            rows = [gen(i) for i in range(40)]
            rows[5] = gen(5, prompt="new words")
            assert not table.apply_rows(rows).resorted
            rows[6] = gen(6, enqueued_at=NOW - 5000)  # part of the status sort's key
            stats = table.apply_rows(rows)
            assert stats.resorted and table.ordered_ids[0] == "gen-00006"
            await pilot.pause()
            assert_consistent(table)

    async def test_a_moved_row_repaints_only_the_lines_between(
        self, monkeypatch: pytest.MonkeyPatch
    ):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            table.apply_rows([gen(i) for i in range(40)])
            table.select_id("gen-00000")
            await pilot.pause()
            calls = spy_refresh(table, monkeypatch)
            rows = [gen(i) for i in range(40)]
            rows[4] = gen(4, enqueued_at=NOW - 1000 + 8.5)  # now sorts after gen-00008
            table.apply_rows(rows)
            assert table.ordered_ids[8] == "gen-00004"
            assert () not in calls, "no whole-table repaint"
            lines = {r.y for regions in calls for r in regions}  # type: ignore[attr-defined]
            header = table.header_height
            # The row moved from line 4 to line 8: lines 4-8 show another row now.
            assert lines == {header + y for y in range(4, 9)}

    async def test_ticks_follow_rows_that_changed(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)):
            table = app.query_one(GenerationsTable)
            table.apply_rows([gen(1, enqueued_at=NOW - 600)], NOW)
            assert table.tick(NOW + 1) == 0
            # Re-enqueued: now young, its age ticks every second.
            table.apply_rows([gen(1, enqueued_at=NOW - 10)], NOW)
            assert table.tick(NOW + 1) == 2
            assert table.cell_text("gen-00001", "age") == "11s"
            table.apply_rows([], NOW + 1)
            assert table.tick(NOW + 5) == 0

    async def test_ticks_only_rewrite_cells_whose_text_changes(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            young = gen(1, enqueued_at=NOW - 10)
            old = gen(2, enqueued_at=NOW - 600)
            table.apply_rows([young, old], NOW)
            # One second later: only the young row's age and wait ("10s" -> "11s").
            assert table.tick(NOW + 1) == 2
            assert table.cell_text("gen-00001", "age") == "11s"
            # Ten more seconds: the old row still reads "10m".
            assert table.tick(NOW + 11) == 2
            assert table.cell_text("gen-00002", "age") == "10m"
            assert table.tick(NOW + 60) == 4
            assert table.cell_text("gen-00002", "age") == "11m"
            await pilot.pause()

    async def test_a_tick_of_every_visible_row_repaints_cells_not_the_table(
        self, monkeypatch: pytest.MonkeyPatch
    ):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            table.apply_rows([gen(i, enqueued_at=NOW - 10) for i in range(60)], NOW)
            await pilot.pause()
            calls = spy_refresh(table, monkeypatch)
            visible = table.scrollable_content_region.height - table.header_height
            assert table.tick(NOW + 1) == 2 * visible, "age and wait of the rows on screen"
            assert len(calls) == 1 and len(calls[0]) == 2 * visible
            widths = {region.width for region in calls[0]}  # type: ignore[attr-defined]
            assert max(widths) < 10, "a region per cell, never a whole line"

    async def test_a_new_mark_on_the_same_row_rewrites_only_its_cells(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)):
            table = app.query_one(GenerationsTable)
            row = gen(3)
            table.apply_rows([row], NOW, {"gen-00003": RowMark(eta="~4m")})
            stats = table.apply_rows([gen(3)], NOW, {"gen-00003": RowMark(eta="~5m")})
            assert stats.changed_cells == 1
            assert table.cell_text("gen-00003", "eta") == "~5m"
            stats = table.apply_rows([gen(3)], NOW, {"gen-00003": RowMark("", True, "~5m")})
            assert stats.changed_cells == 1
            assert table.cell_text("gen-00003", "status").startswith("★")
            # Finished and lingering: every cell restyles (dimmed), texts kept.
            stats = table.apply_rows([gen(3)], NOW, {"gen-00003": RowMark(DONE, True, "")})
            assert stats.changed_cells == len(COLUMNS), "every cell of the row"
            assert table.cell_text("gen-00003", "model") == row.model_name

    async def test_queue_order_keeps_finished_rows_below_the_rows_in_flight(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)):
            table = app.query_one(GenerationsTable)
            assert (table.sort_column, table.sort_reverse) == ("queue", True)
            rows = [gen(i) for i in range(6)]
            rows[1] = gen(1, status="processing", started_at=NOW - 5)
            table.apply_rows(rows, NOW)
            assert table.ordered_ids == [f"gen-{i:05d}" for i in range(6)], "oldest first"
            # Starting keeps the line; finishing goes below the rows in flight.
            rows[2] = gen(2, status="processing", started_at=NOW - 1)
            rows[0] = gen(0, status="failed", started_at=NOW - 9, completed_at=NOW - 1)
            table.apply_rows(rows, NOW)
            order = [f"gen-{i:05d}" for i in (1, 2, 3, 4, 5, 0)]
            assert table.ordered_ids == order
            table.set_sort("queue", False)  # newest first: still below the rows in flight
            assert table.ordered_ids == [f"gen-{i:05d}" for i in (5, 4, 3, 2, 1, 0)]

    async def test_queue_order_puts_invented_statuses_between_the_queue_and_finished(self):
        """A row whose status the hub invented is shown, but it is never known to move:
        old ones must not sit above the real queue for good (seen under --demo --chaos at
        80x24, eleven of them on top)."""
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)):
            table = app.query_one(GenerationsTable)
            rows = [gen(i) for i in range(1, 4)]
            rows.append(gen(0, status="weird"))  # the oldest of all
            rows.append(gen(9, status="succeeded", started_at=NOW - 5, completed_at=NOW - 1))
            table.apply_rows(rows, NOW)
            ids = ["gen-00001", "gen-00002", "gen-00003", "gen-00000", "gen-00009"]
            assert table.ordered_ids == ids
            table.set_sort("queue", False)  # newest first: the groups keep their order
            assert table.ordered_ids == ["gen-00003", "gen-00002", "gen-00001", *ids[3:]]

    async def test_columns_wider_than_a_narrow_terminal_scroll_sideways(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        # (Narrower than the columns always shown: at 60 columns the table fits.)
        async with app.run_test(size=(36, 20)) as pilot:
            table = app.query_one(GenerationsTable)
            table.apply_rows([gen(i) for i in range(30)], NOW)
            table.focus()
            await pilot.pause()
            assert table.virtual_size.width > table.scrollable_content_region.width
            await pilot.press(*["right"] * 20)
            await pilot.pause()
            assert table.scroll_x > 0
            header, line = widget_lines(app, table)[:2]
            assert "gen-0000" in line, "the id column came into view"
            assert " ID " in header, "...all of it, its title too"

    async def test_the_cursor_keeps_its_line_until_the_user_picks_a_row(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            rows = [gen(i) for i in range(6)]
            table.apply_rows(rows, NOW)
            await pilot.pause()
            assert table.cursor_id == "gen-00000"
            # Nobody chose it: when it finishes (and sorts below), the cursor stays on top.
            rows[0] = gen(0, status="failed", started_at=NOW - 9, completed_at=NOW - 1)
            table.apply_rows(rows, NOW)
            assert table.ordered_ids[-1] == "gen-00000"
            assert (table.cursor_row, table.cursor_id) == (0, "gen-00001")
            # Once the user picks a row, the selection follows that row as it moves...
            table.focus()
            await pilot.press("down")
            assert table.cursor_id == "gen-00002"
            rows[2] = gen(2, status="processing", started_at=NOW - 9)
            table.apply_rows(rows, NOW)
            table.set_sort("status")  # processing first
            assert table.cursor_id == "gen-00002" == table.ordered_ids[0]
            table.set_sort("queue")
            assert table.cursor_id == "gen-00002" == table.ordered_ids[1]
            # ...but not into the finished rows when it finishes: the cursor keeps its
            # line, on the next row in flight (no jump to the bottom of the table).
            rows[2] = gen(2, status="succeeded", started_at=NOW - 9, completed_at=NOW - 1)
            table.apply_rows(rows, NOW)
            assert table.ordered_ids[-1] == "gen-00002"  # finished, after gen-00000
            assert (table.cursor_row, table.cursor_id) == (1, "gen-00003")

    async def test_sort_by_every_column_both_ways(self):
        clock = FakeClock(NOW)
        app = TableApp(clock)
        async with app.run_test(size=(160, 30)) as pilot:
            table = app.query_one(GenerationsTable)
            rows = [gen(i, prompt=None if i % 5 == 0 else f"p{i % 7}") for i in range(30)]
            table.apply_rows(rows)
            table.select_id("gen-00011")
            for column in ("status", "model", "media", "prompt", "age", "wait", "run", "target"):
                for reverse in (False, True):
                    table.set_sort(column, reverse)
                    assert table.cursor_id == "gen-00011"
                    assert_consistent(table)
            table.set_sort("prompt", False)
            prompts = [table.generations[g].prompt for g in table.ordered_ids]
            assert prompts[-6:] == [None] * 6, "missing values sort last"
            table.set_sort("prompt", True)
            prompts = [table.generations[g].prompt for g in table.ordered_ids]
            assert prompts[-6:] == [None] * 6, "...in both directions"
            await pilot.pause()


class TestCoarseTicking:
    @given(elapsed=st.floats(min_value=0, max_value=3 * 86400, allow_nan=False))
    def test_texts_change_by_the_second_only_in_the_first_minute(self, elapsed: float):
        text = fmt_coarse(elapsed)
        if elapsed < 60:
            assert text == fmt_coarse(int(elapsed)) != fmt_coarse(int(elapsed) + 1)
        elif elapsed < 86400:
            assert text == fmt_coarse(elapsed // 60 * 60)
        else:
            assert text == fmt_coarse(elapsed // 3600 * 3600)


class TestPresentation:
    def test_every_status_reads_without_colour(self):
        for status, info in STATUSES.items():
            assert status_label(status) == f"{info.glyph} {info.word}"
        assert status_label("paused") == "? paused"
        assert status_label("paused_by_the_admin") == "? paused_by_t…"

    def test_status_bar_shows_error_countdown_counts_and_rows(self):
        state = StatusState(
            host="https://hub.oxen.ai",
            error="hub error 503",
            retry_in=7.2,
            since_ok=30,
            interval=2,
            counts={"queued": 3, "processing": 2, "failed": 1},
            shown=4,
            total=6,
            dropped=2,
            filters="model=x",
            polls=3,
        )
        text = render_status(state, 200).plain
        for part in (
            "✖ hub error 503 — retrying in 8s",
            "https://hub.oxen.ai",
            "⚠ stale: last update 30s ago",
            "▶ 2 processing",
            "◷ 3 queued",
            "✖ 1 failed",
            "4 of 6 rows",
            "2 malformed rows dropped",
            "model=x",
        ):
            assert part in text

    def test_freshness_holds_still_while_polls_are_on_time(self):
        # An idle bar must not be rewritten every second: while the last page is less
        # than two intervals old the text is the same whatever the second.
        texts = {
            render_status(StatusState(host="h", since_ok=s, interval=2, polls=1), 80).plain
            for s in (0.0, 0.5, 1.0, 1.7, 2.5, 3.9)
        }
        assert len(texts) == 1
        assert "updated just now" in texts.pop()
        late = render_status(StatusState(host="h", since_ok=4.2, interval=2, polls=1), 80)
        assert "updated 4s ago" in late.plain and "stale" not in late.plain

    def test_stale_warning_after_three_missed_intervals(self):
        fresh = StatusState(host="h", since_ok=5.9, interval=2, polls=1)
        late = StatusState(host="h", since_ok=6.1, interval=2, polls=1)
        assert "stale" not in render_status(fresh, 200).plain
        assert "⚠ stale: last update 6s ago" in render_status(late, 200).plain

    def test_filters_are_described_briefly(self):
        filters = QueueFilters(media_type="video", status="failed", search="oom")
        assert filters.describe() == "media=video status=failed /oom"
