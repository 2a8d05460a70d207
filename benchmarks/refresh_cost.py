"""Refresh cost: how long one poll blocks the UI loop, with big pages.

    python benchmarks/refresh_cost.py [--quick]

N = 1,000 and 10,000 active rows (seeded demo data), 9 columns, headless at 160x50. Each
poll: 1% new rows, 1% gone, 5% start processing or restart, and the clock moves 2 s.
The stall of a poll is the update call plus the longest event-loop stall after it until
the screen has been repainted (a ticker task measures loop lag; the screen's compositor
refresh is hooked). Median and p95 over 20 polls, side by side:

  (a) the dashboard: the real QueueApp handling `PollSucceeded` (keyed diff, `apply_rows`)
  (b) naive: a plain DataTable with the same columns, `clear()` + `add_rows()` every poll
  (c) floor: `json.loads` + `parse_queue_page` of the same page body
  (d) the same dashboard on the DataTable-based table the Line-API table replaced
      (benchmarks/_datatable_table.py): why the dashboard does not use DataTable
  (e) for information: `keep_unchanged`, which the client runs after parsing, in the
      same thread (off the UI loop), so unchanged rows reach (a) and (d) as the
      previous page's objects, as they do in the app

Targets at 10,000 rows (p95): (a) <= 0.05x (b) and (a) <= 3x (c).
Also: removing 1% of 10,000 rows with `remove_row` per row vs the dashboard's batch.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from unittest import mock

import httpx
from _datatable_table import GenerationsTable as DataTableTable
from _harness import (
    Report,
    Stall,
    StallMeter,
    make_poll_script,
    median,
    ms,
    p95,
    page_body,
    parse_args,
)
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from queue_tui.api.client import FetchResult, QueueClient
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation, keep_unchanged, parse_queue_page
from queue_tui.config import Settings
from queue_tui.core.columns import COLUMNS, row_texts
from queue_tui.core.poller import Snapshot
from queue_tui.demo.clock import FakeClock
from queue_tui.tui import app as app_module
from queue_tui.tui.app import QueueApp
from queue_tui.tui.messages import PollSucceeded

SIZE = (160, 50)
TARGET_VS_NAIVE = 0.05
TARGET_VS_FLOOR = 3.0


def parse(body: bytes) -> list[Generation]:
    return parse_queue_page(json.loads(body)).generations


def hub_transport(body: bytes) -> httpx.MockTransport:
    """Answers every request with `body` (the first page: later pages are injected)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


@dataclass
class Pages:
    """A poll script as page bodies only: the script's row dicts are dropped before
    measuring, so they do not add to the work of Python's cyclic GC in the measured
    process (10,000 rows x 20 polls would be 200,000 extra tracked dicts)."""

    start: float
    rows: int
    initial: bytes
    polls: list[tuple[float, bytes]]

    @classmethod
    def build(cls, n: int, polls: int) -> Pages:
        script = make_poll_script(n, polls)
        return cls(
            start=script.start,
            rows=len(script.initial),
            initial=page_body(script.initial),
            polls=[(now, page_body(rows)) for now, rows in script.polls],
        )


def dashboard_app(pages: Pages, table_class: type | None = None) -> tuple[QueueApp, FakeClock]:
    """The real app; `table_class` swaps in another table widget (the DataTable one)."""
    clock = FakeClock(pages.start)
    settings = Settings(host="http://127.0.0.1:9", interval=24 * 3600.0)
    client = QueueClient(settings, transport=hub_transport(pages.initial))
    if table_class is None:
        return QueueApp(settings, client=client, clock=clock), clock
    with mock.patch.object(app_module, "GenerationsTable", table_class):
        return QueueApp(settings, client=client, clock=clock), clock


def snapshot(rows: list[Generation], now: float) -> PollSucceeded:
    page = parse_queue_page([])
    page.generations[:] = rows
    result = FetchResult(page=page, latency=0.05, fetched_at=now, filters=QueueFilters())
    return PollSucceeded(Snapshot(result))


def show_page(app: QueueApp, message: PollSucceeded) -> None:
    """What the app does with a page: the poll worker has the model observe it, then the
    UI shows it (both on the event loop, timed together as one stall)."""
    app.model.observe_snapshot(message.snapshot)
    app.on_poll_succeeded(message)


async def wait_for(condition: Any, what: str, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def measure_dashboard(
    pages: Pages, table_class: type | None = None, kept: list[float] | None = None
) -> tuple[list[Stall], list[float]]:
    """Stalls of the dashboard, and the floor measured in the same process state: each
    page is parsed (timed: that is the floor) just before the app handles it. Then, as
    the client does in its parse thread, rows equal to the previous page's become its
    objects (`keep_unchanged`, timed into `kept`: off the UI loop in the app)."""
    app, clock = dashboard_app(pages, table_class)
    stalls: list[Stall] = []
    floor: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.polls >= 1 and app.table.row_count == pages.rows, "page 1")
        await pilot.pause()
        previous = parse_queue_page([])
        previous.generations[:] = app.page_rows
        async with StallMeter(app.screen) as meter:
            for now, body in pages.polls:
                t0 = time.perf_counter()
                page = parse_queue_page(json.loads(body))
                t1 = time.perf_counter()
                keep_unchanged(page, previous)
                floor.append(t1 - t0)
                if kept is not None:
                    kept.append(time.perf_counter() - t1)
                previous = page
                clock.set(now)
                message = snapshot(page.generations, now)
                stall = await meter.measure(lambda m=message: show_page(app, m))
                stalls.append(stall)
        # Rows that vanished stay listed (pending, then lingering) as the app shows them.
        assert app.polls == 1 + len(pages.polls)
    return stalls, floor


class NaiveApp(App[None]):
    """A plain DataTable with the dashboard's columns, rebuilt from scratch each poll."""

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(cursor_type="row", id="naive")
        for spec in COLUMNS:
            table.add_column(Text(spec.title), width=spec.width or 20, key=spec.name)
        yield table

    def show(self, rows: Sequence[Generation], now: float) -> None:
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows(
            [Text(cell, no_wrap=True, end="") for cell in row_texts(g, now)] for g in rows
        )


async def measure_naive(pages: Pages, polls: int) -> list[Stall]:
    app = NaiveApp()
    stalls: list[Stall] = []
    async with app.run_test(size=SIZE) as pilot:
        app.show(parse(pages.initial), pages.start)
        await pilot.pause()
        await wait_for(lambda: app.query_one(DataTable).row_count == pages.rows, "rows")
        async with StallMeter(app.screen) as meter:
            for now, body in pages.polls[:polls]:
                rows = parse(body)
                stall = await meter.measure(lambda r=rows, t=now: app.show(r, t))
                stalls.append(stall)
    return stalls


async def measure_removal(n: int, gone: int) -> tuple[float, float]:
    """Seconds to remove `gone` of `n` rows: DataTable.remove_row per row vs the
    dashboard's batch (`apply_rows` with those rows missing, nothing else changed)."""
    pages = Pages.build(n, 0)
    rows = parse(pages.initial)
    keep = rows[gone:]
    now = pages.start

    naive = NaiveApp()
    async with naive.run_test(size=SIZE) as pilot:
        naive.show(rows, now)
        await pilot.pause()
        table = naive.query_one(DataTable)
        keys = list(table.rows)[:gone]
        t0 = time.perf_counter()
        for key in keys:
            table.remove_row(key)
        per_row = time.perf_counter() - t0

    app, _ = dashboard_app(pages)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.polls >= 1 and app.table.row_count == n, "first page")
        await pilot.pause()
        t0 = time.perf_counter()
        app.table.apply_rows(keep, now)
        batch = time.perf_counter() - t0
        assert app.table.row_count == n - gone
    return per_row, batch


def run_size(report: Report, n: int, polls: int, naive_polls: int) -> dict[str, list[float]]:
    report.section(f"{n:,} rows, {polls} polls (naive: {naive_polls}), 160x50 headless")
    t0 = time.perf_counter()
    pages = Pages.build(n, polls)
    gc.collect()  # start from a heap holding only what the measured code keeps
    report.note(f"seeded pages built in {time.perf_counter() - t0:.1f} s")
    kept: list[float] = []
    dashboard_stalls, floor = asyncio.run(measure_dashboard(pages, kept=kept))
    naive_stalls = asyncio.run(measure_naive(pages, naive_polls))
    gc.collect()
    datatable_stalls, _ = asyncio.run(measure_dashboard(pages, DataTableTable))
    dashboard = [s.total for s in dashboard_stalls]
    naive = [s.total for s in naive_stalls]
    datatable = [s.total for s in datatable_stalls]
    for name, values in (
        ("(a) dashboard keyed update (Line-API table)", dashboard),
        ("(b) naive clear() + add_rows()", naive),
        ("(c) floor: json.loads + parse_queue_page", floor),
        ("(d) dashboard on the DataTable-based table", datatable),
        ("(e) keep_unchanged, in the client's parse thread", kept),
    ):
        report.figure(f"{name}: median / p95", f"{ms(median(values))} / {ms(p95(values))}")
    for name, stalls in (
        ("(a)", dashboard_stalls),
        ("(b)", naive_stalls),
        ("(d)", datatable_stalls),
    ):
        update = median([s.update for s in stalls])
        after = median([s.after for s in stalls])
        report.figure(
            f"  {name} median split: update call / stall after it", f"{ms(update)} / {ms(after)}"
        )
        gc_times = [s.gc for s in stalls]
        report.figure(
            f"  {name} of which cyclic GC: median / max",
            f"{ms(median(gc_times))} / {ms(max(gc_times))}",
        )
    report.ratio("(a)/(b) p95", p95(dashboard), p95(naive))
    report.ratio("(a)/(c) p95", p95(dashboard), p95(floor))
    report.ratio("(a)/(b) median", median(dashboard), median(naive))
    report.ratio("(a)/(c) median", median(dashboard), median(floor))
    report.ratio(
        "(a)/(d) p95: Line-API table vs DataTable, same app", p95(dashboard), p95(datatable)
    )
    report.ratio("(d)/(b) p95: the DataTable-based table vs naive", p95(datatable), p95(naive))
    return {"a": dashboard, "b": naive, "c": floor, "d": datatable}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "", argv)
    report = Report("refresh cost: UI-loop stall per poll", quick=args.quick)
    if args.quick:
        sizes, polls, naive_polls, removal = [300], 5, 3, (300, 3)
    else:
        sizes, polls, naive_polls, removal = [1_000, 10_000], 20, 20, (10_000, 100)
    results = {n: run_size(report, n, polls, naive_polls) for n in sizes}

    big = sizes[-1]
    r = results[big]
    a, b, c = p95(r["a"]), p95(r["b"]), p95(r["c"])
    report.section(f"targets at {big:,} rows (p95)")
    report.target(
        f"(a) <= {TARGET_VS_NAIVE}x (b) at {big:,} rows: {ms(a)} vs {ms(b)} = {a / b:.3f}x",
        a <= TARGET_VS_NAIVE * b,
    )
    report.target(
        f"(a) <= {TARGET_VS_FLOOR}x (c) at {big:,} rows: {ms(a)} vs {ms(c)} = {a / c:.2f}x",
        a <= TARGET_VS_FLOOR * c,
    )

    n, gone = removal
    report.section(f"removing {gone} of {n:,} rows (the update call only)")
    per_row, batch = asyncio.run(measure_removal(n, gone))
    report.figure("DataTable.remove_row, one call per row", ms(per_row))
    report.figure("dashboard batch (apply_rows without those rows)", ms(batch))
    report.ratio("batch / per-row", batch, per_row)
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
