"""The History view (`H`) on the embedded demo hub: newest first, paged as you scroll,
the hub's totals named as the hub's, a hub without the endpoint, a fault while paging,
and the way back to the queue. Plus the stats panel's queued cost estimate."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from textual.pilot import Pilot

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.models import PastGeneration, parse_generation
from queue_tui.core.history import HistoryTotals, Tally, TimeRange
from queue_tui.core.money import format_money
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.screens import history as history_module
from queue_tui.tui.screens.history import HistoryScreen, totals_line
from queue_tui.tui.screens.time_range import TimeRangeScreen
from tests.ui.conftest import first_poll, make_app, poll, wait_until
from tests.ui.on_screen import screen_lines, screen_text, widget_lines

SMALL = (80, 24)


class Intercepted(httpx.AsyncBaseTransport):
    """The demo hub's transport, but the requests `answer` picks get its response
    instead (`intercepted` counts them)."""

    def __init__(self, sim: QueueSimulator, answer: Callable[[httpx.Request], int | None]) -> None:
        self.inner = StreamingASGITransport(create_app(sim))
        self.answer = answer
        self.intercepted = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        status = self.answer(request)
        if status is not None:
            self.intercepted += 1
            return httpx.Response(status, json={"error": {"title": "the history is on fire"}})
        return await self.inner.handle_async_request(request)


def history_requests(app) -> list[dict[str, str]]:
    """The query of every history page the app asked for (the steady client's record)."""
    return [p for p in app.client.sent_params if "page" in p]


async def open_history(pilot: Pilot) -> HistoryScreen:
    await pilot.press("H")
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_until(pilot, lambda: bool(screen.rows) and not screen.fetching, "the first page")
    return screen


def shown_ids(app, screen: HistoryScreen) -> list[str]:
    """The short ids in the ID column, top to bottom, as drawn."""
    lines = widget_lines(app, screen.table)
    x = lines[0].index(" ID") + 1
    return [line[x : x + 8] for line in lines[1:] if line[x : x + 8].strip()]


def page_ids(sim: QueueSimulator, page: int) -> list[str]:
    return [r["generation_id"] for r in sim.history(page=page, page_size=100)["generations"]]


class TestHistoryView:
    async def test_H_shows_the_newest_first_with_cost_user_and_the_hubs_total(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            screen = await open_history(pilot)
            first = page_ids(sim, 1)
            shown = shown_ids(app, screen)
            assert len(shown) >= 5
            assert shown == [gid[:8] for gid in first[: len(shown)]], "the hub's order"
            header = widget_lines(app, screen.table)[0].split()
            assert {"COST", "USER", "ENQUEUED"} <= set(header), header
            hub = sim.history(page=1, page_size=100)
            total = format_money(Decimal(hub["total_cost"]))
            entries = f"{hub['total_entries']:,}"
            text = " ".join(line.strip() for line in screen_lines(app)[-4:])
            assert f"{entries} generations, {total} (the hub's total for these filters)" in text
            assert "100 read" in text, "the failure rate is of the rows read"
            # The selected row's cost and user in the detail pane.
            row = hub["generations"][0]
            pane = screen.detail.plain_text()
            assert f"cost         {format_money(Decimal(row['cost']))}" in pane
            assert row["username"] in pane

    async def test_reaching_the_end_fetches_the_next_page_each_row_once(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            screen = await open_history(pilot)
            assert [p["page"] for p in history_requests(app)] == ["1"], "one page for a screen"
            await pilot.press("G")  # the last row loaded
            await wait_until(pilot, lambda: len(screen.rows) == 200, "the second page")
            assert [p["page"] for p in history_requests(app)] == ["1", "2"]
            assert screen.table.row_count == 200
            gen = screen.selected_generation
            assert gen is not None and gen.generation_id == page_ids(sim, 1)[-1], "kept its row"
            # Lower in the table, and the next page again.
            await pilot.press("G")
            await wait_until(pilot, lambda: len(screen.rows) == 300, "the third page")
            assert shown_ids(app, screen)[-1] == page_ids(sim, 2)[-1][:8]
            assert list(screen.rows) == page_ids(sim, 1) + page_ids(sim, 2) + page_ids(sim, 3)

    async def test_a_hub_without_the_history_says_so_and_the_queue_goes_on(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        transport = StreamingASGITransport(create_app(sim, history=False))
        app = make_app(clock=clock, transport=transport)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            await pilot.press("H")
            screen = app.screen
            assert isinstance(screen, HistoryScreen)
            await wait_until(
                pilot,
                lambda: screen.message_text is not None and not screen.fetching,
                "the message",
            )
            text = screen_text(app)
            assert "No history on this hub" in text
            assert "answered 404" in text
            assert "STATUS" not in text, "the message stands in place of the table"
            await pilot.press("escape")
            await poll(pilot)
            assert app.screen is not screen and app.failures == 0

    async def test_a_fault_while_paging_keeps_the_rows_and_asks_again(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(history_module, "RETRY_DELAYS", (0.05,))
        failing = {"page 2": True}

        def page_two(request: httpx.Request) -> int | None:
            return 500 if request.url.params.get("page") == "2" and failing["page 2"] else None

        transport = Intercepted(sim, page_two)
        app = make_app(clock=clock, transport=transport)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            screen = await open_history(pilot)
            await pilot.press("G")
            await wait_until(pilot, lambda: transport.intercepted >= 2, "the page asked again")
            await wait_until(pilot, lambda: screen.fault is not None, "the fault shown")
            assert "page 2 failed" in screen.totals_text
            assert "the history is on fire" in screen.totals_text
            assert screen.table.row_count == 100, "the rows loaded stay"
            failing["page 2"] = False
            await wait_until(pilot, lambda: len(screen.rows) == 200, "the page once it works")
            assert screen.fault is None and "failed" not in screen.totals_text.split("·")[-1]

    async def test_escape_goes_back_to_the_queue_where_the_user_was(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            await pilot.press("j", "j", "j")
            chosen = app.table.cursor_id
            queue_screen = app.screen
            screen = await open_history(pilot)
            await pilot.press("j", "j")
            in_history = screen.selected_generation
            await pilot.press("escape")
            assert app.screen is queue_screen
            await poll(pilot)  # the queue kept polling
            assert app.table.cursor_id == chosen
            # Again: the History view kept its rows and its place (no new request).
            asked = len(history_requests(app))
            await pilot.press("H")
            assert app.screen is screen
            assert screen.selected_generation == in_history
            assert len(history_requests(app)) == asked
            await pilot.press("H")  # the same key closes it
            assert app.screen is queue_screen

    async def test_the_time_range_and_the_summary(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            screen = await open_history(pilot)
            await pilot.press("t")
            await wait_until(pilot, lambda: bool(screen.rows) and not screen.fetching, "reload")
            assert "last hour" in screen_lines(app)[0]
            # A range: the rows' own sum, never called the hub's total; then the hub's.
            assert "in the last hour so far" in screen.totals_text
            assert "(sum of these rows)" in screen.totals_text
            assert "the hub's, any time" in screen.totals_text
            await pilot.press("a")  # every row of the range
            await wait_until(pilot, lambda: screen.pager.done and not screen.fetching, "all")
            await pilot.press("s")
            await pilot.pause()
            summary = screen.summary_panel.plain_text
            spend: dict[str, Decimal] = {}
            for gen in screen.rows.values():
                spend[gen.model_name] = spend.get(gen.model_name, Decimal(0)) + (gen.cost or 0)
            top = max(spend, key=lambda m: spend[m])
            line = next(ln for ln in summary.splitlines() if ln.split()[:1] == [top])
            assert format_money(spend[top]) in line and "█" in line
            assert "DAY" in summary
            assert f"all {len(screen.rows):,} rows in the last hour" in summary

    async def test_T_takes_a_range_of_ones_own_and_refuses_a_wrong_one(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            screen = await open_history(pilot)
            await pilot.press("T")
            await wait_until(pilot, lambda: isinstance(app.screen, TimeRangeScreen), "asks")
            dialog = app.screen
            await pilot.press(*"yesterday", "enter")
            await pilot.pause()
            assert app.screen is dialog, "a wrong range keeps the dialog open"
            assert "expected a duration before now" in dialog.error_text
            assert "expected a duration" in screen_text(app)
            await pilot.press("ctrl+u", *"90m", "enter")
            await wait_until(pilot, lambda: app.screen is screen, "applied")
            await wait_until(pilot, lambda: not screen.fetching, "reload")
            assert "last 90m (t, T)" in screen_lines(app)[0]
            assert screen.time_range.since == clock() - 5_400
            oldest = min(gen.enqueued_at for gen in screen.rows.values())
            assert oldest is not None and oldest >= clock() - 5_400
            assert "in the last 90m" in screen.totals_text
            await pilot.press("t")  # back to the presets, where they were left
            await wait_until(pilot, lambda: not screen.fetching, "reload")
            assert "any time (t, T)" in screen_lines(app)[0]

    async def test_the_table_keeps_at_most_rows_max_and_a_counts_the_rest(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(history_module, "ROWS_MAX", 150)
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            screen = await open_history(pilot)
            await pilot.press("G")
            await wait_until(pilot, lambda: screen.at_limit and not screen.fetching, "the limit")
            await pilot.press("G")
            await pilot.pause()
            assert screen.table.row_count == 150 and len(history_requests(app)) == 2
            assert "the table keeps the first 150 (a: count the rest)" in screen.totals_text
            await pilot.press("a")
            await wait_until(pilot, lambda: screen.pager.done and not screen.fetching, "all")
            entries = sim.history(page=1, page_size=100)["total_entries"]
            assert screen.table.row_count == 150
            assert screen.summary.total.count == entries
            assert f"{entries:,} read" in screen.totals_text

    async def test_the_palette_offers_the_history(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "History" in titles
            screen = await open_history(pilot)
            queue_screen = app.screen_stack[0]
            await pilot.press("enter")  # the row full screen: still no queue action
            assert app.screen is not screen
            for on_top in (screen, app.screen):
                titles = [c.title for c in app.get_system_commands(on_top)]
                assert "Back to the queue" in titles
                assert not any("Cancel" in t or "Resubmit" in t for t in titles), titles
            back = next(
                c for c in app.get_system_commands(app.screen) if c.title.startswith("Back")
            )
            back.callback()
            await pilot.pause()
            assert app.screen is queue_screen


class TestQueuedCost:
    async def test_the_stats_panel_estimates_what_is_in_flight_once_prices_are_known(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(120, 36)) as pilot:
            await first_poll(pilot)
            assert app.prices.requests == 0, "not on the first frame's path"
            await pilot.press("t")
            await wait_until(pilot, lambda: app.prices.requests and not app.prices.busy, "prices")
            asked = app.prices.requests
            await poll(pilot)
            text = app.stats_panel.plain_text
            assert "in flight, estimated $" in text
            assert "EST. COST" in text
            await poll(pilot)
            assert app.prices.requests == asked, "once per model per session"

    async def test_no_prices_no_estimate(self, clock: FakeClock, sim: QueueSimulator):
        no_models = Intercepted(
            sim, lambda request: 404 if request.url.path.startswith("/api/ai/models/") else None
        )
        app = make_app(clock=clock, transport=no_models)
        async with app.run_test(size=(120, 36)) as pilot:
            await first_poll(pilot)
            await pilot.press("t")
            await wait_until(pilot, lambda: no_models.intercepted and not app.prices.busy, "asked")
            await poll(pilot)
            text = app.stats_panel.plain_text
            assert "queued" in text
            assert "estimated" not in text and "EST. COST" not in text


class TestTotalsLine:
    """The view's totals line: the hub's figures named as the hub's, a sum of rows never."""

    @staticmethod
    def tally(*costs: str) -> Tally:
        tally = Tally()
        for n, cost in enumerate(costs):
            tally.add(
                parse_generation(
                    {"generation_id": f"g{n}", "status": "succeeded", "cost": cost},
                    PastGeneration,
                )
            )
        return tally

    def test_while_paging_the_hubs_figures_and_the_rows_loaded_apart(self):
        totals = HistoryTotals(
            self.tally("0.04", "0.0035"), 2_500, Decimal("761.42"), TimeRange(), complete=False
        )
        line = totals_line(totals).plain
        assert line.startswith("2,500 generations, $761.42 (the hub's total for these filters)")
        assert "; 2 read" in line and "$0.0435" not in line

    def test_a_range_sums_its_rows_and_names_the_hubs_any_time_total(self):
        hour = TimeRange(since=0.0, label="in the last hour")
        totals = HistoryTotals(self.tally("0.04"), 2_500, Decimal("761.42"), hour, complete=True)
        line = totals_line(totals).plain
        assert line.startswith("1 in the last hour, $0.04 (sum of these rows)")
        assert "the hub's, any time: 2,500 generations, $761.42" in line

    def test_every_row_read_and_the_sums_agree(self):
        totals = HistoryTotals(
            self.tally("0.04", "0.0035"), 2, Decimal("0.0435"), TimeRange(), complete=True
        )
        line = totals_line(totals).plain
        assert line.startswith("2 generations, $0.0435 (the hub's total for these filters)")
