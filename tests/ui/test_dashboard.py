"""The dashboard, driven with Pilot against the in-process demo hub on a frozen clock."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Input, Select

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.config import Settings
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.sanitize import clean
from queue_tui.tui.screens.detail import DetailScreen
from queue_tui.tui.widgets.generations_table import GenerationsTable
from tests.ui.conftest import DEMO_START, first_poll, make_app, poll, queued_row, wait_until
from tests.ui.on_screen import column_x, find, screen_text, toasts_shown

SIZE = (120, 36)


def visible_range(table: GenerationsTable) -> range:
    """The rows on screen: as many as the table's content has lines under its header."""
    top = int(table.scroll_y)
    return range(top, top + table.scrollable_content_region.height - table.header_height)


class TestRows:
    async def test_rows_of_the_first_poll_appear(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            expected = {row["generation_id"] for row in sim.list()}
            assert expected, "the seeded demo hub has active rows"
            assert set(app.table.generations) == expected
            assert app.table.row_count == len(expected)
            assert "live" in app.status_bar.text
            assert f"{len(expected)} of {len(expected)} rows" in app.status_bar.text

    async def test_default_order_is_queue_order_oldest_first(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            gens = [app.table.generations[gid] for gid in app.table.ordered_ids]
            times = [g.enqueued_at for g in gens]
            assert times == sorted(times)
            assert {g.status for g in gens} == {"processing", "queued"}
            # Ties keep the order the ETAs count in: a model's queued ETAs only grow.
            for model in {g.model_name for g in gens}:
                etas = [
                    app.model.stats.etas[g.generation_id]
                    for g in gens
                    if g.model_name == model
                    and g.generation_id in app.model.stats.etas
                    and g.status == "queued"
                ]
                assert etas == sorted(etas)
            # Status sort (s cycles to it) groups processing before queued.
            app.table.set_sort("status")
            gens = [app.table.generations[gid] for gid in app.table.ordered_ids]
            statuses = [g.status for g in gens]
            assert statuses == sorted(statuses, key=["processing", "queued"].index)
            for status in ("processing", "queued"):
                times = [g.enqueued_at for g in gens if g.status == status]
                assert times == sorted(times)

    async def test_a_row_that_starts_processing_keeps_its_line_in_the_default_order(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            queued = [
                gid
                for gid in app.table.ordered_ids
                if app.table.generations[gid].status == "queued"
            ]
            order = app.table.ordered_ids
            for _ in range(20):
                clock.advance(5)
                await poll(pilot)
                started = [
                    gid
                    for gid in queued
                    if gid in app.table.generations
                    and app.table.generations[gid].status != "queued"
                ]
                if started:
                    break
            assert started, "the demo hub starts queued rows"
            now_order = app.table.ordered_ids
            gens = app.table.generations
            # Rows still in flight keep their order (finished ones go below them).
            in_flight = [g for g in now_order if not gens[g].is_terminal]
            survivors = [gid for gid in order if gid in set(in_flight)]
            assert [gid for gid in in_flight if gid in set(order)] == survivors
            assert all(gens[g].is_terminal for g in now_order[len(in_flight) :])

    async def test_times_tick_without_a_fetch(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            requests = app.poller.requests
            gid = app.table.ordered_ids[-1]
            before = app.table.cell_text(gid, "age")
            clock.advance(3600)
            assert app.table.tick() > 0
            assert app.table.cell_text(gid, "age") != before
            assert app.poller.requests == requests

    async def test_idle_tick_rewrites_nothing(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.tick(clock.now + 0.5)  # whatever was due at the poll's second
            # Within the same second nothing a cell shows can change.
            assert app.table.tick(clock.now + 0.6) == 0


class TestPlaceIsKept:
    async def test_selected_row_stays_selected_and_on_screen_while_rows_come_and_go(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        # A queued row that never progresses, in the middle of the queue by age.
        sim.add_row(queued_row("keep-me-0000", DEMO_START - 90))
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(100, 24)) as pilot:
            await first_poll(pilot)
            # Grouped by status, rows above the selection start and finish and move.
            app.table.set_sort("status")
            assert app.table.select_id("keep-me-0000")
            # High on the screen (as high as the rows below allow): the rows above it
            # always fill that many lines. Lower down, an update that leaves fewer rows
            # above the selection than its line (completion events arriving before a
            # poll can) pins the view at the top, which cannot keep the line: not what
            # is tested here.
            app.table.scroll_to(y=app.table.cursor_row - 3, animate=False)
            await pilot.pause()
            start_offset = app.table.cursor_row - int(app.table.scroll_y)
            assert start_offset <= 6
            churned = 0
            above_before = set(app.table.ordered_ids[: app.table.cursor_row])
            for _ in range(12):
                clock.advance(7)
                await poll(pilot)
                assert app.table.cursor_id == "keep-me-0000"
                assert app.table.selected_generation.generation_id == "keep-me-0000"
                assert app.table.cursor_row in visible_range(app.table)
                assert app.table.cursor_row - int(app.table.scroll_y) == start_offset
                assert app.detail.generation.generation_id == "keep-me-0000"
                above = set(app.table.ordered_ids[: app.table.cursor_row])
                churned += len(above ^ above_before)
                above_before = above
            assert churned > 0, "rows above the selection should have come and gone"

    async def test_a_vanished_selection_stays_then_its_dismissal_moves_to_a_neighbour(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        sim.add_row(queued_row("going-away", DEMO_START - 90))
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("going-away")
            await pilot.pause()
            assert sim.cancel("going-away")
            await poll(pilot)
            # Gone from the hub's queue: it stays (never silently disappears), selected.
            assert "going-away" in app.table.generations
            assert app.table.cursor_id == "going-away"
            for _ in range(4):  # resolution rounds follow the (frozen) clock
                if app.table.cell_text("going-away", "status") == "⊘ cancelled":
                    break
                clock.advance(60)
                await poll(pilot)
            assert app.table.cell_text("going-away", "status") == "⊘ cancelled"
            # Finished, it went below the rows in flight; the cursor kept its line, on
            # the next row in flight (tests/ui/test_keys_and_habits.py).
            assert not app.table.selected_generation.is_terminal
            assert app.table.select_id("going-away")
            order = app.table.ordered_ids
            index = order.index("going-away")
            neighbour = order[index + 1] if index + 1 < len(order) else order[index - 1]
            await pilot.press("x")
            assert "going-away" not in app.table.generations
            assert app.table.cursor_id == neighbour


class TestSorting:
    async def test_s_cycles_the_sort_column_and_it_survives_a_poll(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            assert app.table.sort_column == "queue"  # the queue order: no column's
            await pilot.press("down", "down")
            selected = app.table.cursor_id
            await pilot.press("s")
            assert app.table.sort_column == "status"  # the first column
            while app.table.sort_column != "model":  # on through the visible columns
                await pilot.press("s")
            assert app.table.cursor_id == selected

            def models() -> list[str]:
                return [app.table.generations[g].model_name for g in app.table.ordered_ids]

            assert models() == sorted(models(), key=str.casefold)
            clock.advance(30)
            await poll(pilot)
            assert app.table.sort_column == "model"
            assert models() == sorted(models(), key=str.casefold)
            await pilot.press("S")
            assert app.table.sort_reverse
            assert models() == sorted(models(), key=str.casefold, reverse=True)
            clock.advance(30)
            await poll(pilot)
            assert models() == sorted(models(), key=str.casefold, reverse=True)

    async def test_clicking_a_header_sorts_by_it_and_again_reverses(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            x = column_x(app, app.table, "age")
            await pilot.click(GenerationsTable, offset=(x, 0))
            await pilot.pause()
            assert app.table.sort_column == "age"
            first = app.table.sort_reverse
            ages = [app.table.generations[g].age_seconds(clock.now) for g in app.table.ordered_ids]
            assert ages == sorted(ages, reverse=first)
            await pilot.click(GenerationsTable, offset=(x, 0))
            await pilot.pause()
            assert app.table.sort_reverse is not first
            clock.advance(10)
            await poll(pilot)
            gens = [app.table.generations[g] for g in app.table.ordered_ids]
            # Every row in age order, finished (lingering) ones too: the header says so.
            ages = [g.age_seconds(clock.now) for g in gens]
            assert ages == sorted(ages, reverse=not first)


class TestMouse:
    async def test_a_click_selects_a_row_a_second_click_opens_it_hover_marks_the_line(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            table = app.table
            target = table.ordered_ids[3]
            hover = table.get_component_rich_style("table--hover").bgcolor
            cursor = table.get_component_rich_style("table--cursor").bgcolor
            await pilot.hover(GenerationsTable, offset=(5, 1 + 3))
            await pilot.pause()
            assert line_background(app, 3) == hover, "the line under the mouse is marked"
            assert hover not in {line_background(app, row) for row in (0, 1, 2, 4, 5)}
            await pilot.click(GenerationsTable, offset=(5, 1 + 3))
            await pilot.pause()
            assert table.cursor_id == target == table.selected_key
            assert app.detail.generation.generation_id == target
            assert line_background(app, 3) == cursor, "the cursor takes the hover's place"
            assert hover not in {line_background(app, row) for row in range(6)}
            await pilot.press("down")  # ...and the hover does not come back from under it
            assert hover not in {line_background(app, row) for row in range(6)}
            await pilot.press("up")
            await pilot.click(GenerationsTable, offset=(5, 1 + 3))
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen), "the detail view opened"


def line_background(app, row: int):
    """The background the screen shows on the table's line for `row` (on screen)."""
    table = app.table
    y = table.region.y + table.header_height + row - int(table.scroll_y)
    return app.screen.get_style_at(table.region.x + 5, y).bgcolor


class TestFilters:
    @pytest.mark.parametrize(
        ("select_id", "value", "field"),
        [
            ("model", "veo-3-fast", "model_name"),
            ("media_type", "image", "media_type"),
            ("status", "failed", "status"),
        ],
    )
    async def test_select_filters_reach_the_hub_and_narrow_the_rows(
        self, clock: FakeClock, sim: QueueSimulator, select_id: str, value: str, field: str
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            before = set(app.table.generations)
            seen = app.polls
            app.filter_bar.query_one(f"#{select_id}", Select).value = value
            await wait_until(pilot, lambda: app.polls > seen, "the filtered poll")
            assert getattr(app.poller.filters, select_id) == value
            assert app.client.sent_params[-1][select_id] == value
            rows = list(app.table.generations.values())
            assert rows, "the filter should still match something"
            assert all(getattr(g, field) == value for g in rows)
            assert set(app.table.generations) != before
            label = "media" if select_id == "media_type" else select_id
            assert f"{label}={value}" in app.status_bar.text

    @pytest.mark.parametrize(
        ("input_id", "value", "field"),
        [
            ("namespace", "lumen", "target_namespace"),
            ("repo", "storyboards", "target_repo"),
            ("folder", "drafts", "target_directory"),
        ],
    )
    async def test_target_inputs_apply_on_enter(
        self, clock: FakeClock, sim: QueueSimulator, input_id: str, value: str, field: str
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            total = app.table.row_count
            seen = app.polls
            await pilot.click(f"#{input_id}")
            await pilot.press(*value, "enter")
            await wait_until(pilot, lambda: app.polls > seen, "the filtered poll")
            assert getattr(app.poller.filters, input_id) == value
            assert app.client.sent_params[-1][input_id] == value
            rows = list(app.table.generations.values())
            assert rows
            assert all(getattr(g, field) == value for g in rows)
            assert len(rows) < total
            assert app.focused is app.table, "enter returns to the table"

    async def test_target_inputs_apply_after_a_pause_in_typing(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            seen = app.polls
            await pilot.click("#namespace")
            await pilot.press(*"ox")
            assert app.poller.filters.namespace is None, "not on every keystroke"
            await wait_until(pilot, lambda: app.polls > seen, "the debounced poll")
            assert app.poller.filters.namespace == "ox"

    async def test_search_filters_instantly_without_a_request(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            total = app.table.row_count
            requests = app.poller.requests
            await pilot.press("slash")
            assert isinstance(app.focused, Input) and app.focused.id == "search"
            await pilot.press(*"kling")
            rows = list(app.table.generations.values())
            assert 0 < len(rows) < total
            assert all("kling" in g.model_name for g in rows)
            assert app.poller.requests == requests
            assert f"{len(rows)} of {total} rows" in app.status_bar.text
            await pilot.press("escape")
            assert app.focused is app.table

    async def test_selection_returns_when_the_search_is_cleared(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            target = next(
                g
                for gid in app.table.ordered_ids[3:]
                if "veo" in (g := app.table.generations[gid]).model_name
            )
            app.table.select_id(target.generation_id)
            await pilot.press("slash", *"kling")
            assert target.generation_id not in app.table.generations
            await pilot.press("escape", "F")
            await pilot.pause()
            assert target.generation_id in app.table.generations
            assert app.table.cursor_id == target.generation_id

    async def test_search_matches_prompt_and_error_text(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, status="failed")
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await pilot.press("slash", *"out of memory")
            rows = list(app.table.generations.values())
            assert rows
            assert all("out of memory" in (g.error_message or "").lower() for g in rows)

    async def test_cli_filters_prefill_the_widgets_and_the_first_request(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, model="kling-v2-master", namespace="ox")
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            assert app.filter_bar.query_one("#model", Select).value == "kling-v2-master"
            assert app.filter_bar.query_one("#namespace", Input).value == "ox"
            assert app.client.sent_params[0] == {"model": "kling-v2-master", "namespace": "ox"}
            assert all(g.model_name == "kling-v2-master" for g in app.table.generations.values())

    async def test_shift_f_clears_every_filter(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim, media_type="video", repo="storyboards")
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            seen, sent = app.polls, len(app.client.sent_params)
            await pilot.press("F")
            await wait_until(pilot, lambda: app.polls > seen, "the unfiltered poll")
            assert app.poller.filters.to_params() == {}
            # The first request after clearing is the poll (history queries may follow).
            assert app.client.sent_params[sent] == {}
            assert app.filter_bar.query_one("#media_type", Select).value == ""
            assert app.table.row_count == len(sim.list())


class TestDetail:
    async def test_pane_shows_the_error_of_a_failed_generation(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, status="failed")
        async with app.run_test(size=(160, 48)) as pilot:
            await first_poll(pilot)
            gen = app.table.selected_generation
            assert gen is not None and gen.error_message
            assert app.detail.generation == gen
            text = screen_text(app)
            assert clean(gen.error_message)[:40] in text

    async def test_pane_shows_the_result_url_and_c_copies_it(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, status="succeeded")
        async with app.run_test(size=(160, 48)) as pilot:
            await first_poll(pilot)
            await pilot.press("down")
            gen = app.table.selected_generation
            assert gen is not None and gen.result_url
            assert gen.result_url in app.detail.plain_text()
            x, y = find(app, gen.result_url[:40])
            link = app.screen.get_style_at(x, y).link
            assert link == gen.result_url, "shown as a terminal hyperlink"
            await pilot.press("c")
            assert app.clipboard == gen.result_url

    async def test_c_copies_the_id_when_there_is_no_url(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            gen = app.table.selected_generation
            await pilot.press("c")
            assert app.clipboard == gen.generation_id

    async def test_o_opens_only_http_urls(
        self, clock: FakeClock, sim: QueueSimulator, a_browser: list[str]
    ):
        opened = a_browser
        sim.add_row(queued_row("bad-url", DEMO_START - 5, result_url="javascript:alert(1)"))
        sim.add_row(queued_row("good-url", DEMO_START - 4, result_url="https://hub.oxen.ai/x.png"))
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("bad-url")
            await pilot.press("o")
            app.table.select_id("good-url")
            await pilot.press("o")
            await wait_until(pilot, lambda: bool(opened), "the browser call")
            await pilot.pause(0.05)
            assert opened == ["https://hub.oxen.ai/x.png"]

    async def test_enter_toggles_the_full_screen_detail(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, status="failed")
        async with app.run_test(size=(80, 24)) as pilot:
            await first_poll(pilot)
            gen = app.table.selected_generation
            await pilot.press("enter")
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.pane.generation == gen
            await pilot.press("enter")
            assert app.screen is app.table.screen, "back on the dashboard"
            await pilot.press("d")
            assert not app.detail.display
            await pilot.press("d")
            assert app.detail.display


class TestPolling:
    async def test_pause_stops_requests_and_resume_polls_at_once(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await pilot.press("p")
            assert app.poller.paused
            assert "paused" in app.status_bar.text
            requests = app.poller.requests
            for _ in range(3):
                clock.advance(5)
                await pilot.press("r")
                await pilot.pause(0.05)
            assert app.poller.requests == requests
            await pilot.press("p")
            await wait_until(pilot, lambda: app.poller.requests > requests, "a poll on resume")
            assert "live" in app.status_bar.text

    async def test_a_failing_hub_shows_the_error_and_keeps_the_last_rows(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        hub = FlakyHub(StreamingASGITransport(create_app(sim)))
        app = make_app(clock=clock, sim=sim, transport=hub)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            rows = set(app.table.generations)
            assert rows

            hub.mode = "500"
            clock.advance(5)
            await poll(pilot)
            assert "hub error 500" in app.status_bar.text
            assert "stale" in app.status_bar.text
            assert "retrying in" in app.status_bar.text
            assert set(app.table.generations) == rows
            assert app.table.has_class("-stale")

            hub.mode = "down"
            await poll(pilot)
            assert "cannot reach" in app.status_bar.text
            assert set(app.table.generations) == rows
            assert app.is_running

            hub.mode = "ok"
            await poll(pilot)
            assert "live" in app.status_bar.text
            assert not app.table.has_class("-stale")
            # Rows that left the queue during the outage stay, "… finishing" or finished.
            in_flight = {g for g in app.table.generations if not app.table.mark_of(g).state}
            assert in_flight == {r["generation_id"] for r in sim.list()}


class FlakyHub(httpx.AsyncBaseTransport):
    """The demo hub, until told to answer 500 or to be unreachable."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.mode = "ok"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "500":
            return httpx.Response(500, text="<html>Internal Server Error</html>")
        if self.mode == "down":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class TestApp:
    async def test_theme_from_settings_and_status_colours_follow_a_theme_change(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        settings = Settings(demo=True, interval=60.0, theme="nord")
        app = make_app(clock=clock, sim=sim, settings=settings)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            assert app.theme == "nord"
            gid = app.table.ordered_ids[0]
            before = app.table.cell_style(gid, "status")
            app.theme = "gruvbox"
            await pilot.pause()
            after = app.table.cell_style(gid, "status")
            assert before != after

    async def test_unknown_theme_is_a_warning_not_a_crash(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        settings = Settings(demo=True, interval=60.0, theme="[b]no-such-theme")
        app = make_app(clock=clock, sim=sim, settings=settings)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            assert app.theme != "[b]no-such-theme"
            assert any("no-such-theme" in toast for toast in await toasts_shown(pilot))

    async def test_command_palette_offers_the_dashboard_commands(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            titles = {c.title for c in app.get_system_commands(app.screen)}
            for title in (
                "Refresh now",
                "Pause polling",
                "Clear all filters",
                "Reset filter: model",
                "Reset filter: search",
                "Theme",
                "Copy result URL or id",
            ):
                assert title in titles
            await pilot.press("ctrl+p")
            await pilot.press(*"pause polling")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.poller.paused, "the palette command")

    async def test_client_is_closed_on_exit(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await pilot.press("q")
        assert app.client.http.is_closed

    async def test_no_color_keeps_statuses_readable(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setenv("NO_COLOR", "1")
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            assert app.no_color
            text = screen_text(app)
            assert "▶ processing" in text
            assert "◷ queued" in text


class TestKeysInInputs:
    async def test_printable_keys_type_into_filters_and_ctrl_keys_still_work(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            sort = app.table.sort_column
            await pilot.press("slash", "q", "p", "s", "r")
            assert app.is_running
            assert app.query_one("#search", Input).value == "qpsr"
            assert not app.poller.paused
            assert app.table.sort_column == sort
            seen = app.polls
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: app.polls > seen, "a poll from ctrl+r")
            await pilot.press("ctrl+l")  # redraws the screen: the search stays
            assert app.query_one("#search", Input).value == "qpsr"
            await pilot.press("escape")
            assert app.focused is app.table
            await pilot.press("F")
            assert app.query_one("#search", Input).value == ""
            await pilot.press("q")
        assert not app.is_running


class TestScrollIsKept:
    async def test_a_scrolled_away_view_stays_where_the_user_left_it(self, clock: FakeClock):
        # A big queue with no new arrivals: running rows above the cursor finish and go.
        sim = QueueSimulator.with_active_rows(300, seed=7, clock=clock)
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(100, 24)) as pilot:
            await first_poll(pilot)
            table = app.table
            table.set_sort("status")  # finished rows leave the processing group above
            table.move_cursor(row=60)
            await pilot.pause()
            selected = table.cursor_id
            table.scroll_relative(y=30, animate=False, immediate=True)
            await pilot.pause()
            offset = table.cursor_row - int(table.scroll_y)
            assert table.cursor_row not in visible_range(table), "cursor scrolled off-screen"
            start_index = table.cursor_row
            for _ in range(4):
                clock.advance(30)
                await poll(pilot)
                assert table.cursor_id == selected
                assert table.cursor_row - int(table.scroll_y) == offset
            assert table.cursor_row != start_index, "rows above should have finished"
