"""`H`: the hub's history (`GET /api/ai/generations`), newest first, paged as you scroll.

The queue stays the home: this screen is pushed over it (the queue keeps polling
underneath, its selection untouched) and `esc` or `H` goes back. What it shows:

- the queue's server-side filters (model, media, status, namespace, repo, folder) as
  they were when it opened (the free-text search is not applied: it would hide rows the
  totals count), plus a time range of its own (`t`: any time, last hour, day, week);
- a table of `core.columns.HISTORY_COLUMNS` (COST and USER among them). A `DataTable`,
  not the queue's Line-API table, which is built around the queue's column set; this
  one holds at most `ROWS_MAX` rows, added a page at a time, never diffed (`a` reads
  the rest of the range into the totals and the summary only);
- the detail pane for the selected row (with its cost and user), `enter` full screen;
- a totals line (`core.history.HistoryTotals.line`: which figure is the hub's and which
  the sum of the rows loaded), and what the paging is doing (loading, a fault and its
  retry, the row limit);
- `s`: a summary of the rows read, spend and count per model and per day, with bars.

Pages come from `core.history.HistoryPager` (each row once, even while rows arrive at
the head), one when the cursor or the scroll nears the end of what is loaded. A hub
without the endpoint gets a message in place of the table; a fault while paging is
shown under the rows already loaded, which stay, and the page is asked again after a
back-off. Every hub string is cleaned (`sanitize.clean`) and shown as `Text`.
"""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Static

from queue_tui.api.client import HistoryUnavailableError, QueueClient
from queue_tui.api.errors import QueueError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation, PastGeneration
from queue_tui.core.columns import HISTORY_COLUMNS, Column, layout
from queue_tui.core.dashboard import DEFAULT_MARK
from queue_tui.core.history import (
    DEFAULT_PAGE_SIZE,
    UNKNOWN,
    HistoryPager,
    HistoryTotals,
    Summary,
    Tally,
    TimeRange,
    time_range,
)
from queue_tui.core.money import format_money
from queue_tui.sanitize import clean
from queue_tui.tui.presentation import status_style, theme_status_styles
from queue_tui.tui.screens.detail import DetailScreen
from queue_tui.tui.screens.time_range import Custom, TimeRangeScreen
from queue_tui.tui.widgets.detail_pane import DetailNotes, DetailPane
from queue_tui.tui.widgets.footer import DashboardFooter

#: The time ranges `t` cycles through: (label, seconds back from now; None: any time).
RANGES: tuple[tuple[str, float | None], ...] = (
    ("any time", None),
    ("last hour", 3_600.0),
    ("last day", 86_400.0),
    ("last week", 604_800.0),
)
#: The most rows the table keeps: past it, pages are read only for `a` (into the totals
#: and the summary, which do not grow with the rows); `queue-tui history` lists them all.
#: A DataTable measures every cell again when its columns change (a resize): a few
#: thousand rows is what stays quick.
ROWS_MAX = 2_000
#: The next page is fetched when the cursor, or the last line on screen, is this close
#: to the last row loaded.
PREFETCH = 30
#: Pages read for one fetch that bring no new row (repeats, rows outside the range)
#: before the view waits for the next scroll.
PAGES_PER_FETCH = 5
#: Seconds before a page that failed is asked again, one after another (the last
#: repeats).
RETRY_DELAYS = (2.0, 5.0, 10.0, 30.0, 60.0)
#: Up to this many rows the table is rebuilt at once when its columns change; more wait
#: `RELAYOUT_DELAY` seconds for the resizes to stop.
QUICK_REBUILD = 300
RELAYOUT_DELAY = 0.2
#: From this width the summary sits beside the table; narrower, it takes its place.
SUMMARY_BESIDE_TABLE = 120
#: Groups listed per summary table (the biggest spend first; days: the latest).
SUMMARY_GROUPS = 12
GROUP_MAX = 24


def _range(index: int, custom: Custom | None, now: float) -> TimeRange:
    if custom is not None:
        try:
            return time_range(*custom, now)
        except ValueError:
            pass  # checked when it was typed; a moment cannot turn invalid since
    label, seconds = RANGES[index]
    if seconds is None:
        return TimeRange()
    return TimeRange(since=now - seconds, label=f"in the {label}")


class HistoryTable(DataTable[Text]):
    """The history's rows, keyed by generation id; posts `NearEnd` as the cursor or the
    scroll comes within `PREFETCH` rows of the last one loaded."""

    BINDINGS: ClassVar = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g,home", "scroll_top", "Top", show=False),
        Binding("G,end", "scroll_bottom", "Bottom", show=False),
    ]

    class NearEnd(Message):
        """The user is close to the last row loaded: time for the next page."""

    class Resized(Message):
        """The table's width changed (the terminal, the summary beside it): lay out."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def near_end(self) -> bool:
        last_shown = int(self.scroll_y) + max(1, self.scrollable_content_region.height) - 1
        return self.row_count - max(self.cursor_row, last_shown) <= PREFETCH

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value > old_value and self.near_end():
            self.post_message(self.NearEnd())

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        # (The screen hears the RowHighlighted too: the detail pane follows the cursor.)
        if self.near_end():
            self.post_message(self.NearEnd())


# -- the summary --------------------------------------------------------------------------

_BAR_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, most: float, width: int) -> str:
    """A horizontal bar of `value / most` of `width` cells, to the eighth of a cell."""
    if most <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / most * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_BAR_EIGHTHS[part] if part else "")


def _group_label(key: str, by: str) -> Text:
    if key == UNKNOWN:
        return Text("(not given)", style="dim")
    return Text(clean(key, max_len=GROUP_MAX), no_wrap=True, overflow="ellipsis")


def summary_table(
    summary: Summary, by: str, width: int, title: str, limit: int = SUMMARY_GROUPS
) -> Table:
    """Spend and count per group, with a bar of the spend (of the count where nothing
    cost anything), in `width` cells."""
    rows: list[tuple[str, Tally]] = summary.rows(by)  # type: ignore[arg-type]
    left_out = 0
    if len(rows) > limit:
        if by == "day":  # the latest days: a chart reads left to right, oldest first
            left_out, rows = len(rows) - limit, rows[-limit:]
        else:
            left_out, rows = len(rows) - limit, rows[:limit]
    by_spend = any(t.spend for _, t in rows)
    most = max((float(t.spend if by_spend else t.count) for _, t in rows), default=0.0)
    labels = [_group_label(key, by) for key, _ in rows]
    counts = [f"{t.count:,}" for _, t in rows]
    spends = [format_money(t.spend) for _, t in rows]
    fixed = (
        max([cell_len(title), *(t.cell_len for t in labels)])
        + max([1, *map(len, counts)])
        + max([5, *map(cell_len, spends)])
        + 3 * 2
    )
    bar_width = max(0, min(40, width - fixed))
    table = Table(
        box=None,
        padding=(0, 1),
        pad_edge=False,
        show_edge=False,
        header_style="bold dim",
        expand=False,
    )
    table.add_column(title, no_wrap=True, overflow="ellipsis", max_width=GROUP_MAX)
    table.add_column("N", justify="right", no_wrap=True)
    table.add_column("SPEND", justify="right", no_wrap=True)
    if bar_width:
        table.add_column("", no_wrap=True)
    for label, count, spend, (_, tally) in zip(labels, counts, spends, rows, strict=True):
        cells: list[Text | str] = [label, count, spend]
        if bar_width:
            value = float(tally.spend if by_spend else tally.count)
            cells.append(Text(bar(value, most, bar_width), style="bold"))
        table.add_row(*cells)
    if left_out:
        table.add_row(Text(f"… {left_out} more", style="dim"), "", "")
    return table


class SummaryView:
    """The summary of the rows read, at the width it is drawn in."""

    def __init__(self, summary: Summary, note: str) -> None:
        self.summary = summary
        self.note = note

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        total = self.summary.total
        yield Text(self.note, style="dim")
        if not total.count:
            yield Text("no rows loaded yet", style="dim")
            return
        line = Text()
        line.append(f"{total.count:,}", style="bold")
        line.append(" generations, ", style="dim")
        line.append(format_money(total.spend), style="bold")
        line.append(" spent", style="dim")
        failures = total.failure_text()
        if failures:
            line.append(f", {failures}", style="dim")
        yield line
        yield Text("")
        yield summary_table(self.summary, "model", width, "MODEL")
        yield Text("")
        yield summary_table(self.summary, "day", width, "DAY")


class SummaryPanel(VerticalScroll):
    """`s`: spend and count per model and per day of the rows read."""

    DEFAULT_CSS = """
    SummaryPanel {
        scrollbar-size-vertical: 1;
        padding: 0 1;
    }
    SummaryPanel > Static {
        width: 100%;
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Summary"
        self._body = Static("", id="history-summary-body")
        self.view: SummaryView | None = None

    def compose(self) -> ComposeResult:
        yield self._body

    def show(self, summary: Summary, note: str) -> None:
        self.view = SummaryView(summary, note)
        self._body.update(self.view)

    @property
    def plain_text(self) -> str:
        """The summary as plain text (for tests and tools)."""
        if self.view is None:
            return ""
        console = Console(width=100, no_color=True, record=True, file=StringIO())
        console.print(self.view)
        return console.export_text()


# -- the screen -----------------------------------------------------------------------------


def totals_line(totals: HistoryTotals) -> Text:
    """The view's totals, short enough for two lines at 80 columns: the hub's figures
    for the filter set, named as the hub's, then the rows read, named as such (their
    sum is never passed off as the hub's). `HistoryTotals.line` is the long form."""
    listed = totals.listed
    text = Text(end="")
    failures = listed.failure_text()
    if totals.listed_is_hub_total:
        text.append(f"{listed.count:,} generations, ", style="bold")
        text.append(format_money(totals.hub_cost), style="bold")
        text.append(" (the hub's total for these filters)", style="dim")
        if failures:
            text.append(f"; {failures}")
        return text
    if totals.time_range.bounded:
        so_far = "" if totals.complete else " so far"
        text.append(f"{listed.count:,} {totals.time_range.label}{so_far}, ", style="bold")
        text.append(format_money(listed.spend), style="bold")
        text.append(" (sum of these rows)", style="dim")
    else:
        entries = "?" if totals.hub_entries is None else f"{totals.hub_entries:,}"
        text.append(f"{entries} generations, ", style="bold")
        text.append(format_money(totals.hub_cost, missing="cost not given"), style="bold")
        text.append(" (the hub's total for these filters)", style="dim")
        text.append(f"; {listed.count:,} read")
    if failures:
        text.append(f", {failures}" if totals.time_range.bounded else f": {failures}")
    if listed.no_cost:
        text.append(f"; {listed.no_cost:,} without a cost", style="dim")
    if totals.time_range.bounded and (totals.hub_entries is not None or totals.hub_cost):
        entries = "?" if totals.hub_entries is None else f"{totals.hub_entries:,}"
        cost = format_money(totals.hub_cost, missing="cost not given")
        text.append(f"; the hub's, any time: {entries} generations, {cost}", style="dim")
    if totals.arrived > 0:
        text.append(f"; {totals.arrived:,} newer since (r)", style="dim")
    return text


def history_notes(gen: Generation) -> DetailNotes:
    """The detail pane's lines about what a history row cost and who enqueued it."""
    if not isinstance(gen, PastGeneration):
        return ()
    notes: list[tuple[str, str]] = []
    if "cost" in gen.invalid_fields:
        notes.append(("cost", f"? (the hub sent {clean(gen.invalid_fields['cost'], max_len=60)})"))
    else:
        notes.append(("cost", format_money(gen.cost, missing="not given")))
    name, uid = gen.username, gen.user_id
    if name and uid and name != uid:
        notes.append(("user", f"{clean(name, max_len=60)} ({clean(uid, max_len=60)})"))
    elif name or uid:
        notes.append(("user", clean(name or uid, max_len=60)))
    return tuple(notes)


class HistoryScreen(Screen[None]):
    """The history, over the queue. The app keeps one (its rows survive a return to the
    queue) and calls `open_for(filters)` before showing it again."""

    AUTO_FOCUS = "HistoryTable"
    BINDINGS: ClassVar = [
        Binding("escape,H", "close", "Queue"),
        Binding("t", "cycle_range", "Range"),
        Binding("T", "custom_range", "Since…", show=False),
        Binding("s", "toggle_summary", "Summary"),
        Binding("r", "reload", "Reload"),
        Binding("a", "load_all", "Load all"),
        Binding("d", "toggle_detail", "Pane", show=False),
    ]

    DEFAULT_CSS = """
    HistoryScreen {
        layout: vertical;
    }
    HistoryScreen > #history-header {
        height: 1;
        background: $panel;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    HistoryScreen #history-body {
        height: 1fr;
        layout: vertical;
    }
    HistoryScreen.-wide #history-body {
        layout: horizontal;
    }
    HistoryTable {
        height: 1fr;
        width: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        /* The columns are laid out once, for the first page: the same width whether
           its scrollbar has appeared yet or not. */
        scrollbar-gutter: stable;
    }
    HistoryTable > .datatable--header {
        background: $panel;
        color: $text-muted;
        text-style: bold;
    }
    HistoryScreen #history-message {
        display: none;
        height: 1fr;
        width: 1fr;
        padding: 1 2;
        background: $surface;
    }
    HistoryScreen #history-body.-message #history-message {
        display: block;
    }
    HistoryScreen #history-body.-message HistoryTable,
    HistoryScreen #history-body.-message DetailPane {
        display: none;
    }
    HistoryScreen DetailPane.-hidden {
        display: none;
    }
    SummaryPanel {
        display: none;
        height: 1fr;
        background: $surface;
        border-top: solid $primary 50%;
        border-title-color: $text-muted;
        border-title-align: left;
    }
    HistoryScreen #history-body.-summary SummaryPanel {
        display: block;
    }
    HistoryScreen #history-body.-summary DetailPane {
        display: none;
    }
    HistoryScreen #history-body.-summary HistoryTable,
    HistoryScreen #history-body.-summary #history-message {
        display: none;
    }
    HistoryScreen.-medium #history-body.-summary HistoryTable {
        display: block;
        height: 2fr;
    }
    HistoryScreen.-medium #history-body.-summary SummaryPanel {
        height: 3fr;
    }
    HistoryScreen.-wide #history-body.-summary HistoryTable {
        display: block;
    }
    /* As wide as the detail pane it replaces (app.tcss): the table keeps its width, so
       its columns stay (a DataTable measures every cell again when they change). */
    HistoryScreen.-wide #history-body.-summary SummaryPanel {
        width: 42%;
        max-width: 90;
        border-top: blank;
        border-left: solid $primary 50%;
    }
    HistoryScreen > #history-totals {
        height: auto;
        max-height: 3;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        client: QueueClient,
        filters: QueueFilters,
        *,
        clock: Callable[[], float],
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.page_size = page_size
        #: The queue's filters the history was read with (the search is not applied).
        self.filters = filters
        self.range_index = 0
        #: `T`: the since and until texts typed (they win over `range_index`).
        self.custom_range: Custom | None = None
        self.pager = self._new_pager()
        #: The rows loaded, by id, and their ids newest first (the table's order).
        self.rows: dict[str, PastGeneration] = {}
        self._ids: list[str] = []
        self.summary = Summary()
        #: What went wrong: the hub has no history, or the last page's fault.
        self.unavailable: str | None = None
        self.fault: str | None = None
        self.fetching = False
        #: `a`: read page after page to the end of the range.
        self.load_all = False
        self._failures = 0
        self._retry: Timer | None = None
        self._relayout_timer: Timer | None = None
        self._visible: list[str] = []
        self._widths: dict[str, int] = {}
        self._styles: dict[str, Style] = {}
        #: The theme the status colours were taken from.
        self._theme = ""
        self._header = Static("", id="history-header")
        self.table = HistoryTable(id="history-table", cursor_type="row", zebra_stripes=False)
        self._message = Static("", id="history-message")
        self.detail = DetailPane(clock=clock, id="history-detail")
        self.detail.notes_for = history_notes
        self.summary_panel = SummaryPanel(id="history-summary")
        self._totals = Static("", id="history-totals")
        self._totals_text = Text()
        self._message_text: Text | None = None

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._header
        with Container(id="history-body"):
            yield self.table
            yield self._message
            yield self.detail
            yield self.summary_panel
        yield self._totals
        yield DashboardFooter()

    def on_mount(self) -> None:
        self.detail.empty_message = "No generation selected"
        self._show_header()
        self._relayout(force=True)
        self._show_state()
        self.set_interval(1.0, self._tick)
        self._fetch()

    @on(HistoryTable.Resized)
    def _table_resized(self, event: HistoryTable.Resized) -> None:
        event.stop()
        if self._relayout_timer is not None:
            self._relayout_timer.stop()
            self._relayout_timer = None
        if self.table.row_count <= QUICK_REBUILD:
            self._relayout()
        else:
            # A window dragged wider sends many sizes: lay out for the last one.
            self._relayout_timer = self.set_timer(RELAYOUT_DELAY, self._relayout)

    def on_screen_resume(self) -> None:
        # The theme may have changed while another screen was on top: the status colours.
        self._relayout(force=self.app.theme != self._theme)
        self.table.focus()

    # -- public ------------------------------------------------------------------------

    @property
    def body(self) -> Container:
        return self.query_one("#history-body", Container)

    @property
    def selected_generation(self) -> PastGeneration | None:
        if not self.rows or self.body.has_class("-message"):
            return None
        row = self.table.cursor_row
        return self.rows[self._ids[row]] if 0 <= row < len(self._ids) else None

    @property
    def time_range(self) -> TimeRange:
        return self.pager.time_range

    @property
    def summary_visible(self) -> bool:
        return self.is_mounted and self.body.has_class("-summary")

    @property
    def totals_text(self) -> str:
        """The totals line and the paging's state, as shown."""
        return self._totals_text.plain

    @property
    def message_text(self) -> str | None:
        """What is shown in place of the table, if anything."""
        return self._message_text.plain if self._message_text is not None else None

    def open_for(self, filters: QueueFilters) -> None:
        """About to be shown for the queue's `filters`: read again if they changed."""
        if filters.server_key() != self.filters.server_key():
            self.filters = filters
            if self.is_mounted:
                self.reload()
        else:
            self.filters = filters
        if self.is_mounted:
            self._show_header()

    def reload(self) -> None:
        """From the newest row again (the range measured from now)."""
        self.pager = self._new_pager()
        self.rows.clear()
        self._ids.clear()
        self.summary = Summary()
        self.unavailable = self.fault = None
        self.fetching = self.load_all = False
        self._failures = 0
        self._stop_retry()
        self.table.clear()
        self._relayout(force=True)
        self._show_header()
        self._show_state()
        self._fetch()

    # -- paging ------------------------------------------------------------------------

    def _new_pager(self) -> HistoryPager:
        return HistoryPager(
            self.client,
            self.filters.with_(search=None),
            time_range=_range(self.range_index, self.custom_range, self.clock()),
            page_size=self.page_size,
        )

    @property
    def at_limit(self) -> bool:
        return len(self.rows) >= ROWS_MAX

    def _wants_more(self) -> bool:
        return not (
            self.fetching
            or self.pager.done
            or (self.at_limit and not self.load_all)
            or self.unavailable
            or self._retry is not None
        )

    def _fetch(self) -> None:
        if self._wants_more():
            self.fetching = True
            self._show_state()
            self.run_worker(
                self._read_page(self.pager), group="history", exclusive=True, exit_on_error=False
            )

    async def _read_page(self, pager: HistoryPager) -> None:
        rows: list[PastGeneration] = []
        error: QueueError | None = None
        try:
            for _ in range(PAGES_PER_FETCH):
                rows = await pager.next_rows()
                if rows or pager.done:
                    break
        except QueueError as exc:
            error = exc
        if pager is not self.pager:
            return  # read for a range or filters since replaced
        self.fetching = False
        if isinstance(error, HistoryUnavailableError):
            self.unavailable = clean(error.message, max_len=300)
        elif error is not None:
            self._failures += 1
            self.fault = clean(error.message, max_len=200)
            delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS)) - 1]
            self._retry = self.set_timer(delay, self._retry_now)
        else:
            self._failures = 0
            self.fault = None
            self._add(rows)
        self._show_state()
        if error is None and (self.load_all or self.table.near_end()):
            self._fetch()  # the screen is not full yet, or the user is already there

    def _retry_now(self) -> None:
        self._retry = None
        self._fetch()

    def _stop_retry(self) -> None:
        if self._retry is not None:
            self._retry.stop()
            self._retry = None

    @on(HistoryTable.NearEnd)
    def _near_end(self, event: HistoryTable.NearEnd) -> None:
        event.stop()
        self._fetch()

    def _add(self, rows: list[PastGeneration]) -> None:
        first = not self.rows
        now = self.clock()
        for gen in rows:
            gid = gen.generation_id
            if gid in self.rows:
                continue  # the pager lists each row once; a hub's duplicate id is not
            self.summary.add(gen)
            if self.at_limit:
                continue  # counted, not kept
            self.rows[gid] = gen
            self._ids.append(gid)
            if not first:
                self.table.add_row(*self._cells(gen, now), key=gid)
        if first:
            # The first rows decide the fitted widths (later pages do not move columns).
            self._relayout(force=True)
        if self.summary_visible:
            self._show_summary()

    # -- drawing -----------------------------------------------------------------------

    def _cells(self, gen: Generation, now: float) -> list[Text]:
        cells: list[Text] = []
        for name in self._visible:
            column = _BY_NAME[name]
            text = column.text(gen, DEFAULT_MARK, now)
            style = status_style(self._styles, gen.status) if name == "status" else ""
            cells.append(
                Text(
                    text,
                    style=style,
                    justify="right" if column.right else "left",
                    no_wrap=True,
                    overflow="ellipsis",
                    end="",
                )
            )
        return cells

    def _layout_inputs(self) -> tuple[int, dict[str, int], list[str]]:
        width = self.table.scrollable_content_region.width or self.app.size.width
        fitted: dict[str, int] = {}
        now = self.clock()
        for column in HISTORY_COLUMNS:
            if column.fitted:
                widest = max(
                    (cell_len(column.text(g, DEFAULT_MARK, now)) for g in self.rows.values()),
                    default=column.width,
                )
                fitted[column.name] = max(column.min_width, min(column.max_width, widest))
        present = [
            c.name
            for c in HISTORY_COLUMNS
            if c.shown_if is not None and any(c.shown_if(g) for g in self.rows.values())
        ]
        return width, fitted, present

    def _relayout(self, *, force: bool = False) -> None:
        """Choose the columns for the table's width; rebuild the table when they change."""
        if not self.is_mounted:
            return
        width, fitted, present = self._layout_inputs()
        names, widths = layout(width, fitted, 2, present, columns=HISTORY_COLUMNS)
        if not force and names == self._visible and widths == self._widths:
            return
        self._theme = self.app.theme
        try:
            variables = self.app.get_css_variables()
            self._styles = theme_status_styles(variables, dark=self.app.current_theme.dark)
        except Exception:
            self._styles = {}
        self._visible, self._widths = names, widths
        table = self.table
        cursor = table.cursor_row
        table.clear(columns=True)
        for name in names:
            column = _BY_NAME[name]
            label = Text(column.title, justify="right" if column.right else "left", end="")
            table.add_column(label, width=widths[name], key=name)
        now = self.clock()
        for gid, gen in self.rows.items():
            table.add_row(*self._cells(gen, now), key=gid)
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1), animate=False)

    def _show_header(self) -> None:
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        text.append("History", style="bold")
        if self.custom_range is None:
            text.append(f"  {RANGES[self.range_index][0]}", style="bold")
        else:
            text.append(f"  {self.time_range.label.removeprefix('in ')}", style="bold")
        text.append(" (t, T)", style="dim")
        described = self.filters.with_(search=None).describe()
        text.append(f"  {clean(described, max_len=120)}" if described else "  every generation")
        if self.filters.search:
            text.append("  (the search is not applied here)", style="dim")
        text.append("  newest first", style="dim")
        self._header.update(text)

    def _show_state(self) -> None:
        """The totals line, what the paging is doing, and the message in place of the
        table when there are no rows to show."""
        if not self.is_mounted:
            return
        pager = self.pager
        message: Text | None = None
        if self.unavailable:
            message = Text.assemble(
                ("No history on this hub", "bold"),
                f"\n{self.unavailable}\n",
                ("The queue works as before: esc goes back to it.", "dim"),
            )
        elif not self.rows and self.fault:
            message = Text.assemble(
                ("Could not load the history", "bold"),
                f"\n{self.fault}\n",
                (f"Asked again in {self._retry_delay():.0f}s (r: now).", "dim"),
            )
        elif not self.rows and pager.done and not self.fetching:
            where = f" {self.time_range.label}" if self.time_range.bounded else ""
            message = Text(f"No generations{where} for these filters.", style="dim")
        was_message = self._message_text is not None
        self.body.set_class(message is not None, "-message")
        if was_message and message is None and self.is_current:
            self.table.focus()  # it lost the focus while it was hidden
        self._message_text = message
        if message is not None:
            self._message.update(message)
        totals = Text(end="")
        if pager.pages_read and not self.unavailable:
            totals = totals_line(pager.totals())
        status = self._paging_status()
        if status:
            totals.append(("  ·  " if totals else "") + status, style="dim")
        self._totals_text = totals
        self._totals.update(totals)
        if not self.rows:
            self.detail.show(None, force=True)
        else:
            self.detail.show(self.selected_generation)

    def _retry_delay(self) -> float:
        return RETRY_DELAYS[max(0, min(self._failures, len(RETRY_DELAYS)) - 1)]

    def _paging_status(self) -> str:
        pager = self.pager
        if self.unavailable:
            return ""
        if self.fault and self.rows:
            return (
                f"page {pager.page} failed: {self.fault}; asked again in "
                f"{self._retry_delay():.0f}s (the rows above stay)"
            )
        if self.fetching:
            return f"loading page {pager.page}…"
        if self.at_limit and self.load_all:
            read = f"{self.summary.total.count:,} read"
            return f"the table keeps the first {ROWS_MAX:,}; {read}"
        if self.at_limit and not pager.done:
            return f"the table keeps the first {ROWS_MAX:,} (a: count the rest)"
        if pager.stopped == "stalled":
            return "the hub kept sending rows already listed: stopped"
        if pager.done:
            return "all read"
        return "more below" if self.rows else ""

    def _show_summary(self) -> None:
        read = self.summary.total.count
        hub = self.pager.hub_entries
        if self.pager.complete:
            note = f"all {read:,} rows {self._range_words()}".rstrip()
        else:
            bounded = self.time_range.bounded
            of = f" of {hub:,} on the hub" if hub is not None and not bounded else ""
            note = f"of the {read:,} rows read{of} {self._range_words()}".rstrip()
            if not self.load_all:
                note += " (a: all)"
        self.summary_panel.show(self.summary, note)

    def _range_words(self) -> str:
        return self.time_range.label if self.time_range.bounded else ""

    def _tick(self) -> None:
        # The pane's relative times ("3m ago"); repaints only when they change.
        if self.is_current and self.rows:
            self.detail.show(self.selected_generation)

    # -- events and actions ----------------------------------------------------------

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self) -> None:
        self.detail.show(self.selected_generation)

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self) -> None:
        gen = self.selected_generation
        if gen is None:
            return
        screen = DetailScreen(gen, clock=self.clock)
        screen.pane.notes_for = history_notes
        self.app.push_screen(screen)

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_cycle_range(self) -> None:
        if self.custom_range is not None:
            self.custom_range = None  # back to the presets, where they were left
        else:
            self.range_index = (self.range_index + 1) % len(RANGES)
        self.reload()
        self.notify(f"History: {RANGES[self.range_index][0]}", timeout=2, markup=False)

    def action_custom_range(self) -> None:
        since, until = self.custom_range or (None, None)

        def apply(custom: Custom | None) -> None:
            if custom is None:
                return
            self.custom_range = None if custom == (None, None) else custom
            self.reload()

        self.app.push_screen(TimeRangeScreen(self.clock, since or "", until or ""), apply)

    def action_reload(self) -> None:
        self.reload()

    def action_load_all(self) -> None:
        """`a`: every row of the range, page after page, so the totals and the summary
        cover all of it (the table keeps the first `ROWS_MAX`)."""
        if self.pager.done:
            self.notify("Every row of the range is read", timeout=2)
            return
        self.load_all = True
        self._fetch()

    def action_toggle_detail(self) -> None:
        self.detail.toggle_class("-hidden")

    def action_toggle_summary(self) -> None:
        body = self.body
        body.toggle_class("-summary")
        if self.summary_visible:
            self._show_summary()
            if self.app.size.width < SUMMARY_BESIDE_TABLE:
                self.summary_panel.focus()
        else:
            self.table.focus()


_BY_NAME: dict[str, Column] = {c.name: c for c in HISTORY_COLUMNS}

__all__ = ["RANGES", "ROWS_MAX", "HistoryScreen", "HistoryTable", "SummaryPanel", "bar"]
