"""The live dashboard: `queue-tui` with no subcommand, or `queue-tui --demo`.

One long-lived worker runs `Poller.run`; each outcome is posted to the UI as a message
(`PollSucceeded` / `PollErrored`). The table is updated by a keyed diff
(`GenerationsTable.apply_rows`), so the user's place survives every poll. A failed poll
never ends the app: the error is shown, the last good rows stay (marked stale), and the
poller backs off.

Each page goes through the dashboard model first (`core/dashboard.py`, in the poll
worker): it decides the rows and their marks (in flight, finishing, finished and
lingering), the counts, the detail notes, the stats and every toast; this app shows its
records and holds the widgets, the workers and the key actions (cancel, watch, dismiss...).
Actions on many rows (`space` marks; `del` and `R` act on the marked rows) are planned,
run and summed up by `core/actions.py`; the app asks, runs the plan in a worker and shows
each row as its result lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.events import Resize
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widget import Widget

from queue_tui.api.client import CancelOutcome, QueueClient
from queue_tui.api.errors import QueueError
from queue_tui.api.filters import SERVER_FILTERS, QueueFilters
from queue_tui.api.models import Generation, valid_id
from queue_tui.config import Settings
from queue_tui.core.dashboard import DashboardModel, Toast, model_name, short_id
from queue_tui.core.gc_policy import RELEASE_EVERY, freeze_long_lived, release_free_heap
from queue_tui.core.poller import Poller, PollFailed, PollOutcome, Snapshot
from queue_tui.core.prices import PriceBook
from queue_tui.core.stats import QueuedCost, QueueStats, estimate_queued_cost
from queue_tui.core.tracker import LifecycleEvent
from queue_tui.sanitize import clean, safe_url
from queue_tui.state import CHOOSABLE_COLUMNS, UiState, load_state, save_state, state_path
from queue_tui.tui.messages import FiltersChanged, LifecycleNews, PollErrored, PollSucceeded
from queue_tui.tui.render_caches import TRIM_EVERY, trim_render_caches
from queue_tui.tui.screens.too_small import guard_size
from queue_tui.tui.textual_patches import install as install_textual_patches
from queue_tui.tui.widgets.detail_pane import DetailPane
from queue_tui.tui.widgets.filter_bar import FilterBar
from queue_tui.tui.widgets.footer import DashboardFooter
from queue_tui.tui.widgets.generations_table import GenerationsTable
from queue_tui.tui.widgets.stats_panel import StatsPanel
from queue_tui.tui.widgets.status_bar import (
    StatusBar,
)

# The screens, the bulk actions and the browser are imported where they are first used:
# nothing of them is needed to paint the first row (benchmarks/startup_installed.py).
if TYPE_CHECKING:
    from queue_tui.core.actions import Plan
    from queue_tui.tui.screens.detail import DetailScreen
    from queue_tui.tui.screens.history import HistoryScreen

log = logging.getLogger(__name__)

#: Seconds before the poll loop restarts after an unexpected (non-hub) exception.
CRASH_RETRY = 5.0
#: The longest the poll worker waits for a page to be painted before its follow-up.
PAGE_SHOWN_WAIT = 1.0
#: At start-up the first frame waits up to this long for the first page, so that it
#: shows rows (one paint) instead of an empty table repainted a moment later. A hub
#: slower than this gets the empty frame first, as before.
FIRST_FRAME_WAIT = 0.25
#: A poll that brings the very page shown last (byte-identical body: the client hands back
#: the same page object) only updates the status bar; rows, stats and ETAs, which then
#: move only with time, are rendered again at most this often (an idle queue polled
#: every 2 s otherwise re-renders them all every poll).
SAME_PAGE_RENDER_EVERY = 10.0
#: From this width the stats panel sits beside (or below) the table; narrower, it takes
#: the table's place (see app.tcss).
STATS_BESIDE_TABLE = 120
#: Actions on the selected generation: offered on the dashboard and the detail view.
ROW_ACTIONS = frozenset({"cancel_generation", "resubmit", "toggle_watch", "dismiss_finished"})
#: Actions that change something on the hub: gone in read-only mode (their keys are
#: refused with a toast, `action_refuse`).
HUB_ACTIONS = frozenset({"cancel_generation", "resubmit"})


class QueueApp(App[None]):
    """The dashboard. Attributes for tests and benchmarks:

    - `table` (GenerationsTable), `detail` (DetailPane), `filter_bar`, `status_bar`,
      `stats_panel`
    - `poller` (Poller: `.requests`, `.paused`, `.filters`), `client` (QueueClient)
    - `model` (DashboardModel: `.tracker`, `.watcher`, `.stats`, `.announced`...)
    - `filters` (QueueFilters in effect), `page_rows` (last good page), `polls`
      (pages applied), `failures` (failed polls seen), `last_error`
    """

    CSS_PATH = "app.tcss"
    TITLE = "queue-tui"
    AUTO_FOCUS = "GenerationsTable"
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (120, "-medium"), (150, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-tiny"), (20, "-short"), (32, "-tall")]

    BINDINGS: ClassVar = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("r", "refresh", "Refresh"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, priority=True),
        Binding("p", "toggle_pause", "Pause"),
        Binding("slash", "focus_search", "Search"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("enter", "open_detail", "Detail", show=False),
        Binding("c", "copy", "Copy"),
        Binding("delete,C", "cancel_generation", "Cancel"),
        Binding("t", "toggle_stats", "Stats"),
        Binding("H", "history", "History", show=False),
        Binding("w", "toggle_watch", "Watch", show=False),
        Binding("x", "dismiss_finished", "Dismiss", show=False),
        Binding("h", "toggle_finished", "Hide finished", show=False),
        Binding("o", "open_url", "Open", show=False),
        Binding("d", "toggle_detail", "Pane", show=False),
        Binding("f", "toggle_filters", "Filters", show=False),
        Binding("F", "clear_filters", "Clear filters", show=False),
        # As in shells, vim, less and htop: redraw a garbled screen (works in the filters).
        Binding("ctrl+l", "redraw", "Redraw", show=False, priority=True),
        Binding("escape", "focus_table", "Back to table"),
        Binding("question_mark", "help", "Help"),
        # Marks (k9s's space): actions on many rows. Last in the footer, which drops
        # the keys that do not fit whole, so narrower terminals keep the keys above.
        Binding("space", "toggle_mark", "Mark"),
        Binding("asterisk", "mark_shown", "Mark all shown", show=False),
        Binding("U", "clear_marks", "Clear marks", show=False),
        Binding("R", "resubmit", "Resubmit"),
        # Read-only: the hub actions' keys say why nothing happens (`check_action` turns
        # the actions themselves off, so these come next for the same keys).
        Binding("delete,C", "refuse('cancelling')", show=False),
        Binding("R", "refuse('resubmitting')", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        client: QueueClient,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        remember: bool = True,
    ) -> None:
        """`remember`: load and save the user's preferences (`queue_tui.state`) in
        `$XDG_STATE_HOME/queue-tui/state.json`; False (the screenshots): neither."""
        super().__init__()
        install_textual_patches()  # partial line updates cropped (Textual #5625); idempotent
        self.settings = settings
        self.clock = clock
        self._monotonic = monotonic
        self.client = client
        self.model = DashboardModel(settings, client, clock)
        self.poller = Poller(
            client, settings.filters, interval=settings.interval, monotonic=monotonic
        )
        #: Model prices for the stats panel's cost estimate: asked once the panel is open.
        self.prices = PriceBook(client, monotonic=monotonic)
        #: Pages whose follow-up (backfill, resolution) is done: the screenshot renderer
        #: (`queue_tui.screenshots.render`) and tests wait on it.
        self.follow_ups = 0
        #: Set once the screen has painted the last page posted (see `_post_outcome`).
        self._page_shown = asyncio.Event()
        #: The page the rows were last rendered from, and when (`_same_page`).
        self._rendered_page: object | None = None
        self._rendered_at = 0.0
        #: The snapshot whose stats the poll worker computed (`_post_outcome`).
        self._stats_for: Snapshot | None = None
        #: While `on_mount` waits for the first page (see `_first_frame`).
        self._first_page: asyncio.Future[PollSucceeded | PollErrored] | None = None
        self._detail_screen: DetailScreen | None = None
        self._main_screen: Screen | None = None
        #: The History view (`H`), made when first opened and kept (its rows with it).
        self.history_screen: HistoryScreen | None = None
        #: Where the preferences are remembered (None: nowhere), and what was last saved.
        self.state_file: Path | None = state_path() if remember else None
        self._saved_state: UiState | None = None
        self.table = GenerationsTable(clock=clock, id="table")
        self.detail = DetailPane(clock=clock, id="detail")
        self.filter_bar = FilterBar(settings.filters, id="filter-bar")
        #: The detail pane is filled in only after the first frame (`_update_detail`).
        self._first_frame_painted = False
        #: The cyclic collector is paused until the first frame (`on_load`).
        self._gc_paused = False
        self.status_bar = StatusBar(id="status-bar")
        self.stats_panel = StatsPanel(id="stats")

    # What the polls taught (`DashboardModel.link`), for tests and tools.
    page_rows = property(lambda self: self.model.link.page_rows)
    failure = property(lambda self: self.model.link.failure)
    polls = property(lambda self: self.model.link.polls)
    failures = property(lambda self: self.model.link.failures)
    dropped = property(lambda self: self.model.link.dropped)
    degraded = property(lambda self: self.model.link.degraded)

    @property
    def read_only(self) -> bool:
        """`--read-only`, or a relay that refuses cancels and resubmits."""
        return self.settings.read_only or self.client.relay_read_only

    def _show_read_only(self) -> None:
        """The footer and the keys follow a relay that starts (or stops) refusing actions."""
        if self.footer.read_only != self.read_only:
            self.footer.set_read_only(self.read_only)  # its keys too: `check_action`

    @property
    def filters(self) -> QueueFilters:
        return self.model.filters

    @filters.setter
    def filters(self, filters: QueueFilters) -> None:
        self.model.filters = filters

    def show_toasts(self, toasts: Iterable[Toast]) -> None:
        for toast in toasts:
            if toast.message:
                self.notify(
                    toast.message,
                    title=toast.title,
                    severity=toast.severity,  # type: ignore[arg-type]
                    markup=False,
                    timeout=toast.timeout,
                )
            if toast.bell:
                self.bell()

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.filter_bar
        with Container(id="body"):
            yield self.table
            yield self.detail
            yield self.stats_panel
        yield self.status_bar
        self.footer = DashboardFooter(read_only=self.read_only)
        yield self.footer

    async def on_mount(self) -> None:
        self._main_screen = self.screen
        self._restore_state()
        if self.settings.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.notify(
                    f"unknown theme {clean(self.settings.theme, max_len=40)}; try ctrl+p, Theme",
                    severity="warning",
                    markup=False,
                )
        self.show_toasts(self.model.config_warnings())
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._saved_state = self.ui_state()
        self._update_status()
        self.detail.notes_for = self.model.detail_notes
        self.set_interval(1.0, self.tick)
        self.set_interval(RELEASE_EVERY, release_free_heap)  # all day: core/gc_policy.py
        self.set_interval(TRIM_EVERY, trim_render_caches)  # all day: tui/render_caches.py
        guard_size(self)
        assert self._first_page is not None  # on_load made it
        await self._first_frame(self._first_page)
        # What the first row does not need comes once it is painted.
        self.call_after_refresh(self._after_first_frame)

    def on_load(self) -> None:
        # The collector waits for the first frame: what start-up makes (widgets, styles,
        # the first page) lives on, and is collected once and frozen after the first page
        # is painted (`freeze_long_lived`); collections before would walk it for nothing.
        self._gc_paused = gc.isenabled()
        gc.disable()
        # The first poll goes out now: the hub answers while Textual starts up.
        self._first_page = asyncio.get_running_loop().create_future()
        self._poll_loop()

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def _after_first_frame(self) -> None:
        """The collector again, the filter widgets, the detail pane's content, then the
        event stream."""
        self._resume_gc()
        self._first_frame_painted = True
        self.filter_bar.populate()
        self._update_detail()
        self._event_stream_loop()

    async def _first_frame(self, first: asyncio.Future[PollSucceeded | PollErrored]) -> None:
        """Apply the first poll's outcome before the first frame, if it comes quickly.

        Textual draws nothing until the app's mount handlers return (they run inside its
        start-up `batch_update`), so waiting here for the first page, briefly, makes the
        first frame show rows: one full paint, where otherwise the empty table is painted
        and then painted again with the rows (measured: the second paint was about a
        tenth of the start-up to the first row, in benchmarks/startup.py)."""
        try:
            async with asyncio.timeout(FIRST_FRAME_WAIT):
                message = await first
        except TimeoutError:
            return  # the worker posts the outcome as usual when it comes
        finally:
            self._first_page = None
        if isinstance(message, PollSucceeded):
            self.on_poll_succeeded(message)
        else:
            self.on_poll_errored(message)

    def on_resize(self, event: Resize) -> None:
        if self._main_screen is not None:
            guard_size(self, event.size)

    async def on_unmount(self) -> None:
        self._resume_gc()
        self.workers.cancel_group(self, "poller")
        self.workers.cancel_group(self, "events")
        with contextlib.suppress(Exception):
            await self.client.aclose()

    # -- polling -----------------------------------------------------------------------

    @work(exclusive=True, group="poller", exit_on_error=False)
    async def _poll_loop(self) -> None:
        """The only place requests are made: one at a time, for the app's lifetime."""
        while True:
            try:
                await self.poller.run(self._post_outcome)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in a layer below must not end the dashboard
                if self.client.http.is_closed:
                    return  # the app is closing (on_unmount closed the client)
                log.exception("poll loop crashed; restarting")
                failure = PollFailed(
                    error=QueueError(f"internal error while polling ({type(exc).__name__})"),
                    attempt=self.poller.failures + 1,
                    delay=CRASH_RETRY,
                    next_try_at=self._monotonic() + CRASH_RETRY,
                )
                self.post_message(PollErrored(failure))
                await asyncio.sleep(CRASH_RETRY)

    async def _post_outcome(self, outcome: PollOutcome) -> None:
        if isinstance(outcome, Snapshot):
            # The tracker sees every page first, here in the worker: the UI then
            # renders from the tracker, while the worker goes on to resolve what vanished.
            self.model.observe_snapshot(outcome)
            if outcome.result.page is not self._rendered_page:
                # The stats of the new page too, here: between these steps (each tens of
                # ms at 10,000 rows) the loop handles the keys pressed meanwhile.
                await asyncio.sleep(0)
                self.model.refresh_stats(self.clock())
                self._stats_for = outcome
            await asyncio.sleep(0)
            self._page_shown.clear()
            self._post(PollSucceeded(outcome))
            # The follow-up requests (and parsing their answers) wait until the page is
            # on screen, so they never slow down showing it.
            # (`asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` can swallow
            # the worker's cancellation at exit, and the loop then never ends.)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PAGE_SHOWN_WAIT):
                    await self._page_shown.wait()
            # What they learn is shown by `LifecycleNews`.
            news, history = await self.model.follow_up(outcome)
            if news:
                self.post_message(LifecycleNews(history=history))
            self.follow_ups += 1
        else:
            self._post(PollErrored(outcome))

    def _post(self, message: PollSucceeded | PollErrored) -> None:
        """To the waiting first frame (`_first_frame`), else as a message."""
        first = self._first_page
        if first is not None and not first.done():
            first.set_result(message)
        else:
            self.post_message(message)

    def on_poll_succeeded(self, message: PollSucceeded) -> None:
        snapshot = message.snapshot
        self._show_read_only()
        self.call_after_refresh(self._page_shown.set)
        if snapshot.result.filters.server_key() != self.filters.server_key():
            return  # an answer to filters the user has since changed
        connected_again = self.model.page_shown(snapshot)
        self.table.remove_class("-stale")
        if self.polls == 1:
            self.call_after_refresh(freeze_long_lived)  # once painted: core/gc_policy.py
        if self.holding:
            self._update_status()  # a poll that was out when `p` was pressed
            return
        if not connected_again and self._same_page(snapshot):
            if not self._status_fresh():
                self._update_status()  # "updated just now" again, at once
            # Else only the latency moved: the next tick shows it (one repaint a second).
            return
        self._rendered_page = snapshot.result.page
        self._rendered_at = self._monotonic()
        self.filter_bar.learn_models({g.model_name for g in self.page_rows})
        stats = self.model.stats
        if self._stats_for is snapshot and stats is not None:
            self._show_stats(stats)  # computed in the poll worker
        else:
            self.refresh_stats(self.clock())
        self.render_rows()
        self.announce()
        self.show_toasts(connected_again)

    def _same_page(self, snapshot: Snapshot) -> bool:
        """The page already rendered, with nothing new to tell and the stats panel shut:
        the tick keeps the times moving, so rendering it again would change nothing but
        what moves with time (stats, ETAs), which `SAME_PAGE_RENDER_EVERY` catches up."""
        return (
            snapshot.result.page is self._rendered_page
            and not self.model.has_news
            and not self.stats_visible
            and self._monotonic() - self._rendered_at < SAME_PAGE_RENDER_EVERY
        )

    def on_poll_errored(self, message: PollErrored) -> None:
        toasts = self.model.page_failed(message.failure)
        if self.page_rows:
            self.table.add_class("-stale")
        # Both say the newest error at once (the pane's empty-table note, the bar).
        self._update_status()
        self._update_detail()
        self.show_toasts(toasts)

    def current_rows(self) -> list[Generation]:
        """Every row shown right now, before client-side filtering: the tracker's active
        and pending rows and the finished ones that linger (as of the last render)."""
        return self.model.view.rows

    def _status_fresh(self) -> bool:
        """The bar says the rows are fresh ("live", "updated just now", no fault)."""
        state = self.status_bar.state
        return state.error is None and state.fresh

    def render_rows(self) -> None:
        """Diff the model's rows (client-side filters applied) into the table."""
        now = self.clock()
        view = self.model.rows(now)
        self.table.apply_rows(view.visible, now, view.marks)
        self._update_status()
        self._update_detail(now)

    def refresh_stats(self, now: float) -> None:
        """Once per poll (and after a filter change): stats, ETAs, the stats panel."""
        self._show_stats(self.model.refresh_stats(now))

    def _show_stats(self, stats: QueueStats) -> None:
        self.table.etas = stats.etas
        if self.stats_visible:
            self.stats_panel.show(stats, self.queued_cost())

    def queued_cost(self) -> QueuedCost | None:
        """The estimate of what the rows in flight cost, at the prices known so far (the
        next poll shows prices learnt since); asks for the models not priced yet."""
        rows = self.model.tracker.active_rows()
        filters = self.filters if self.filters.active() else None
        if not self.prices.busy and self.prices.wanted({g.model_name for g in rows}):
            self._fetch_prices(rows)
        return estimate_queued_cost(rows, self.prices.prices, filters)

    @work(group="prices", exit_on_error=False)
    async def _fetch_prices(self, rows: list[Generation]) -> None:
        # One request per model, once a session (`PriceBook`), never on the first frame.
        await self.prices.fetch(g.model_name for g in rows)

    def announce(self) -> None:
        """The model's toasts for the lifecycle events gathered since the last call."""
        self.show_toasts(self.model.announce(self.clock(), (self.size.width, self.size.height)))

    @work(group="events", exit_on_error=False)
    async def _event_stream_loop(self) -> None:
        await self.model.watcher.run_event_stream(self._stream_events, on_state=self._stream_state)

    def _stream_events(self, events: list[LifecycleEvent]) -> None:
        self.model.queue_events(events)
        self.post_message(LifecycleNews())

    def _stream_state(self, _: object) -> None:
        self._update_status()

    def on_lifecycle_news(self, message: LifecycleNews) -> None:
        if self.holding:
            self._update_status()  # "paused, N changes waiting"
            return
        if message.history:
            # Finished rows from the hub's lists: percentiles, throughput, ETAs.
            self.refresh_stats(self.clock())
        if self.model.has_news or message.history:
            self.render_rows()
            self.announce()

    # -- periodic ----------------------------------------------------------------------

    def tick(self) -> None:
        """Every second: lingering rows that ran out, held toasts whose gap ended, ages."""
        if self.holding:
            self._update_status()
            return
        now = self.clock()
        expired, toasts = self.model.tick(now, (self.size.width, self.size.height))
        if expired:
            self.render_rows()
        self.show_toasts(toasts)
        self.table.tick(now)
        self._update_status()
        self._update_detail(now)

    def _update_status(self) -> None:
        state = self.model.status_state(self.poller, self._monotonic(), self.table.row_count)
        self.status_bar.set_state(state)
        # Dimmed while the rows are old: a failing hub, or one that stopped answering.
        self.table.set_class(
            bool(self.page_rows) and (state.stale or self.failure is not None), "-stale"
        )

    def _update_detail(self, now: float | None = None) -> None:
        if not self._first_frame_painted:
            return  # rendering the selected row's details would delay the first row
        now = self.clock() if now is None else now
        empty = self.table.row_count == 0
        self.detail.empty_message = (
            self.model.empty_message(self.status_bar.state) if empty else "No generation selected"
        )
        self.detail.show(self.table.selected_generation, now)
        screen = self._detail_screen
        if screen is not None and screen.pane.generation is not None:
            gid = screen.pane.generation.generation_id
            latest = self.table.generations.get(gid) or next(
                (g for g in self.current_rows() if g.generation_id == gid), None
            )
            screen.pane.show(latest or screen.pane.generation, now)

    def _theme_changed(self, theme: Theme) -> None:
        self.table.restyle()
        self.detail.show(self.detail.generation, force=True)
        self.remember()

    # -- remembered preferences (queue_tui/state.py) -------------------------------------

    def ui_state(self) -> UiState:
        """The preferences as they are now."""
        # (getattr: benchmarks/refresh_cost.py swaps in an older table without a choice)
        chosen = getattr(self.table, "chosen_columns", None)
        return UiState(
            theme=self.theme,
            sort_column=self.table.sort_column,
            sort_reverse=self.table.sort_reverse,
            show_finished=self.model.show_finished,
            show_detail=not self.detail.has_class("-hidden"),
            columns=None if chosen is None else [n for n in CHOOSABLE_COLUMNS if n in chosen],
        )

    def _restore_state(self) -> None:
        """Apply the remembered preferences; a flag or the config file wins (the theme:
        `settings.theme`, applied after this)."""
        if self.state_file is None:
            return
        state, notices = load_state(self.state_file, themes=self.available_themes)
        for notice in notices:
            self.notify(notice, title="Preferences", severity="warning", markup=False)
        if state.theme and not self.settings.theme:
            self.theme = state.theme
        if state.sort_column is not None:
            self.table.set_sort(state.sort_column, state.sort_reverse)
        if state.show_finished is not None:
            self.model.show_finished = state.show_finished
        if state.show_detail is not None:
            self.detail.set_class(not state.show_detail, "-hidden")
        if state.columns is not None:
            self.table.choose_columns(state.columns)

    def remember(self) -> None:
        """Save the preferences if they changed (after a key, a click, a palette entry;
        never on a tick). A failure to write is logged, not shown: the dashboard works on."""
        if self.state_file is None or self._saved_state is None:
            return  # not yet mounted: what `_restore_state` applies is no change
        state = self.ui_state()
        if state == self._saved_state:
            return
        try:
            save_state(state, self.state_file)
        except OSError as exc:
            log.warning("cannot save preferences to %s: %s", self.state_file, exc)
            return
        self._saved_state = state

    def on_generations_table_sort_changed(self, _: GenerationsTable.SortChanged) -> None:
        self.remember()

    def choose_columns(self, names: Iterable[str] | None) -> None:
        """Show only these table columns (None: all); remembered."""
        self.table.choose_columns(None if names is None else list(names))
        self.remember()

    def action_choose_columns(self) -> None:
        from queue_tui.tui.screens.columns import ColumnChooserScreen

        if not isinstance(self.screen, ColumnChooserScreen):
            self.push_screen(ColumnChooserScreen(self.table.chosen_columns, self.choose_columns))

    # -- events from widgets -----------------------------------------------------------

    def on_filters_changed(self, message: FiltersChanged) -> None:
        self.filters = message.filters
        self.poller.set_filters(message.filters)
        # The rows first: they are what the key changed. The stats (each pass over every
        # row matches the filters again: as long as the rows at 10,000) once they are
        # painted, and the rows again only if the ETAs moved.
        self.render_rows()
        self.call_after_refresh(self._refresh_stats_for_filters)

    def _refresh_stats_for_filters(self) -> None:
        etas = self.table.etas
        self.refresh_stats(self.clock())
        if self.table.etas != etas:
            self.render_rows()

    @on(GenerationsTable.RowHighlighted, "#table")
    def _row_highlighted(self) -> None:
        self._update_detail()

    @on(GenerationsTable.RowSelected, "#table")
    def _row_selected(self) -> None:
        self.action_open_detail()

    # -- actions -----------------------------------------------------------------------

    #: Actions that only make sense on the dashboard (hidden over the detail view).
    DASHBOARD_ACTIONS: ClassVar = frozenset(
        {
            "focus_search",
            "cycle_sort",
            "reverse_sort",
            "toggle_detail",
            "toggle_filters",
            "open_detail",
            "clear_filters",
            "focus_table",
            "toggle_stats",
            "toggle_finished",
            "choose_columns",
            "toggle_mark",
            "mark_shown",
            "clear_marks",
        }
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        on_dashboard = self.screen is self._main_screen
        if action == "refuse":
            return (
                self.read_only and not isinstance(self.screen, ModalScreen) and not self.in_history
            )
        if action in ROW_ACTIONS:
            if action in HUB_ACTIONS and self.read_only:
                return False
            # Not on a History row: they act on the queue's rows and the tracker's marks.
            return not isinstance(self.screen, ModalScreen) and not self.in_history
        if action == "history":
            return on_dashboard or self.screen is self.history_screen
        if action in ("toggle_stats", "toggle_finished") and isinstance(self.screen, ModalScreen):
            return False
        if action == "focus_table":
            # Offered (and shown in the footer) only while focus is elsewhere.
            return on_dashboard and self.focused is not self.table
        return on_dashboard or action not in self.DASHBOARD_ACTIONS

    def action_refresh(self) -> None:
        if self.poller.paused:
            self.notify("Polling is paused: press p to resume", timeout=3)
            return
        self.poller.refresh_now()

    @property
    def holding(self) -> bool:
        """Paused: the screen holds still (rows, ages, toasts) while the model keeps
        learning from the event stream; `p` shows what changed."""
        return self.poller.paused

    def action_toggle_pause(self) -> None:
        if not self.poller.toggle_pause():
            self.render_rows()
            self.announce()
        self._update_status()

    def action_focus_search(self) -> None:
        self.filter_bar.focus_search()

    def action_focus_table(self) -> None:
        # Going back to the table closes the stats panel where it took the table's place.
        body = self._body
        if body is not None and self.stats_visible and self.size.width < STATS_BESIDE_TABLE:
            body.remove_class("-stats")
        self.table.focus()

    def action_cycle_sort(self) -> None:
        self.table.action_cycle_sort()

    def action_reverse_sort(self) -> None:
        self.table.action_reverse_sort()

    def action_toggle_detail(self) -> None:
        self.detail.toggle_class("-hidden")
        self.remember()

    def action_toggle_filters(self) -> None:
        self.filter_bar.toggle_class("-show-target")

    def action_clear_filters(self) -> None:
        self.filter_bar.set_filters(QueueFilters())
        self.notify("Filters cleared", timeout=2)

    def action_redraw(self) -> None:
        """Write every cell of the screen again (another program wrote over it)."""
        self.refresh(repaint=True)

    def reset_filter(self, name: str) -> None:
        self.filter_bar.set_filters(self.filters.with_(**{name: None}))

    def action_open_detail(self) -> None:
        if self._detail_screen is not None:
            return
        gen = self.table.selected_generation
        if gen is None:
            return
        from queue_tui.tui.screens.detail import DetailScreen

        screen = DetailScreen(gen, clock=self.clock)
        screen.pane.notes_for = self.model.detail_notes
        self._detail_screen = screen

        def closed(_: None) -> None:
            self._detail_screen = None

        self.push_screen(screen, closed)

    def _focused_generation(self) -> Generation | None:
        if self._detail_screen is not None and self._detail_screen.pane.generation is not None:
            return self._detail_screen.pane.generation
        if self.in_history:
            # The History view's row (or its full-screen detail): `c` and `o` act on it.
            from queue_tui.tui.screens.detail import DetailScreen

            screen = self.screen
            if isinstance(screen, DetailScreen):
                return screen.pane.generation
            return self.history_screen.selected_generation if self.history_screen else None
        return self.table.selected_generation

    def back_to_queue(self) -> None:
        """Close the History view and whatever is over it (its full-screen detail)."""
        while self.in_history and len(self.screen_stack) > 1:
            self.pop_screen()

    @property
    def in_history(self) -> bool:
        """The History view is open (on top, or under its full-screen detail or help)."""
        history = self.history_screen
        return history is not None and history in self.screen_stack

    def action_history(self) -> None:
        """`H`: the History view over the queue (again, or esc: back to the queue)."""
        history = self.history_screen
        if history is not None and self.screen is history:
            self.pop_screen()
            return
        if self.screen is not self._main_screen:
            return
        if history is None:
            from queue_tui.tui.screens.history import HistoryScreen

            history = self.history_screen = HistoryScreen(
                self.client, self.filters, clock=self.clock
            )
            self.install_screen(history, name="history")
        else:
            history.open_for(self.filters)
        self.push_screen("history")

    def _label(self, gen: Generation) -> str:
        return f"{model_name(gen)} · {short_id(gen.generation_id)}"

    def action_refuse(self, what: str) -> None:
        why = "--read-only" if self.settings.read_only else "the relay forwards no actions"
        self.notify(f"Read-only ({why}): {what} is turned off", severity="warning", timeout=4)

    def action_cancel_generation(self) -> None:
        if self.read_only:
            self.action_refuse("cancelling")
            return
        from queue_tui.core.actions import plan_cancel
        from queue_tui.tui.screens.confirm_cancel import ConfirmCancelScreen

        if self.model.marked and self._detail_screen is None:
            self._act_on_many(plan_cancel(self.model, None, self.table.ordered_ids))
            return
        gen = self._focused_generation()
        if gen is None:
            self.notify("Nothing selected to cancel", severity="warning", timeout=3)
            return
        gid, label = gen.generation_id, self._label(gen)
        if self.model.is_finished(gid):
            status = clean(gen.status, max_len=20)
            self.notify(
                f"{label} has already finished ({status}): nothing to cancel",
                severity="warning",
                markup=False,
                timeout=4,
            )
            return
        if not valid_id(gid):
            self.notify(
                f"Cannot cancel {label}: it does not look like a generation id",
                severity="error",
                markup=False,
            )
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._cancel_on_hub(gid, label)

        self.push_screen(ConfirmCancelScreen(gen, self.clock()), answered)

    def action_resubmit(self) -> None:
        """`R`: resubmit the marked rows (else the selected one) that failed or were
        cancelled, after a confirmation showing the request."""
        if self.read_only:
            self.action_refuse("resubmitting")
            return
        from queue_tui.core.actions import plan_resubmit

        # The marked rows, except from the full-screen detail (it is about one row).
        many = bool(self.model.marked) and self._detail_screen is None
        selected = None if many else self._focused_generation()
        self._act_on_many(plan_resubmit(self.model, selected, self.table.ordered_ids))

    def _act_on_many(self, plan: Plan) -> None:
        """Ask (how many, the first few, what is left out), then run the plan."""
        from queue_tui.core.actions import Kind
        from queue_tui.tui.screens.confirm_cancel import (
            confirm_many,
            describe_plan,
            describe_resubmit,
        )

        if not plan.targets:
            self.notify(plan.nothing_message(), severity="warning", markup=False, timeout=5)
            return
        if plan.kind is Kind.CANCEL:
            body = describe_plan(plan)
        else:
            body = describe_resubmit(plan, self.model.resubmitter.retry_supported)

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._run_plan(plan)

        self.push_screen(confirm_many(plan, body), answered)

    @work(group="bulk", exit_on_error=False)
    async def _run_plan(self, plan: Plan) -> None:
        """The requests, a few at a time (`core.actions.run_plan`); each result shows in
        its row as it lands, then one summary toast."""
        from queue_tui.core.actions import run_plan

        tally = await run_plan(self.model, plan, lambda _gid: self.render_rows())
        self.show_toasts([tally.summary()])
        if tally.already or tally.new_ids:
            # How the finished ones ended; the new generations' rows.
            self.poller.refresh_now()
        self.post_message(LifecycleNews())
        self.render_rows()

    @work(group="cancel", exit_on_error=False)
    async def _cancel_on_hub(self, gid: str, label: str) -> None:
        try:
            outcome, events = await self.model.watcher.cancel(gid, self.clock())
        except QueueError as error:
            self.notify(
                f"Could not cancel {label}: {clean(error.message, max_len=200)}",
                title="Cancel failed",
                severity="error",
                markup=False,
            )
            return
        if outcome is CancelOutcome.CANCELLED:
            self.notify(f"Cancelled {label}", markup=False, timeout=4)
            self.model.queue_events(events)
        else:
            self.notify(
                f"{label} had already finished: nothing was cancelled",
                severity="warning",
                markup=False,
                timeout=5,
            )
            # Learn how it ended now rather than at the next resolution round.
            self.poller.refresh_now()
        self.post_message(LifecycleNews())
        self.render_rows()

    def action_toggle_mark(self) -> None:
        """`space`: mark or unmark the row under the cursor, then move to the next row
        (marking rows one after another is one key each, as in mc and ranger)."""
        gid = self.table.cursor_id
        if gid is None:
            return
        self.model.toggle_mark(gid)
        self._show_marks()
        self.table.action_cursor_down()

    def action_mark_shown(self) -> None:
        """`*`: mark every row the view shows."""
        shown = len(self.model.view.visible)
        added = self.model.mark_shown()
        self._show_marks()
        if not shown:
            self.notify("No rows to mark", severity="warning", timeout=3)
        elif added:
            self.notify(f"Marked {added} more (every row shown; U clears)", timeout=3)
        else:
            self.notify(f"All {shown} rows shown are marked (U clears)", timeout=3)

    def action_clear_marks(self) -> None:
        """`U`: unmark every row."""
        n = self.model.clear_marks()
        self._show_marks()
        self.notify(f"Cleared {n} mark{'' if n == 1 else 's'}" if n else "No marks", timeout=2)

    def _show_marks(self) -> None:
        """The marks as they are now, on the rows the table shows: nothing else moves
        (no new page is applied: while paused the screen holds still)."""
        view = self.model.remarked()
        self.table.apply_rows(view.visible, self.table.now, view.marks)
        self._update_status()

    def action_toggle_watch(self) -> None:
        gen = self._focused_generation()
        if gen is None:
            self.notify("Nothing selected to watch", severity="warning", timeout=3)
            return
        gid, label = gen.generation_id, self._label(gen)
        tracker = self.model.tracker
        if gid in tracker.watched:
            tracker.unwatch(gid)
            self.notify(f"No longer watching {label}", markup=False, timeout=3)
        else:
            tracker.watch(gid)
            if self.model.is_finished(gid):
                status = clean(gen.status, max_len=20)
                self.notify(f"{label} has already finished ({status})", markup=False, timeout=4)
            else:
                self.notify(
                    f"★ Watching {label}: you will be told when it finishes",
                    markup=False,
                    timeout=4,
                )
        self.render_rows()

    def action_dismiss_finished(self) -> None:
        gen = self._focused_generation()
        if gen is None:
            return
        gid = gen.generation_id
        if not self.model.is_finished(gid):
            self.notify(
                "Only finished rows can be dismissed (del cancels one in flight)",
                severity="warning",
                timeout=3,
            )
            return
        self.model.tracker.unwatch(gid)
        self.model.tracker.dismiss(gid)
        if self._detail_screen is not None:
            self._detail_screen.dismiss(None)
        self.render_rows()

    def action_toggle_finished(self) -> None:
        shown = self.model.show_finished = not self.model.show_finished
        self.render_rows()
        self.remember()
        self.notify(
            f"Finished rows {'shown (h hides' if shown else 'hidden (h shows'} them)", timeout=2
        )

    @property
    def _body(self) -> Widget | None:
        # The panel's container on the dashboard screen (`self.query_one` would search
        # whichever screen is on top: the detail view, help, a dialog...).
        parent = self.stats_panel.parent
        return parent if isinstance(parent, Widget) else None

    @property
    def stats_visible(self) -> bool:
        body = self._body
        return body is not None and body.has_class("-stats")

    def action_toggle_stats(self) -> None:
        body = self._body
        if body is None:
            return
        body.toggle_class("-stats")
        if self.stats_visible:
            self.stats_panel.show(self.model.stats, self.queued_cost())
            if self.size.width < STATS_BESIDE_TABLE:
                self.stats_panel.focus()  # it took the table's place
        else:
            self.table.focus()

    def action_copy(self) -> None:
        gen = self._focused_generation()
        if gen is None:
            self.notify("Nothing selected to copy", severity="warning", timeout=3)
            return
        if gen.result_url:
            text, what = clean(gen.result_url), "result URL"
        else:
            text, what = clean(gen.generation_id), "id"
        self.copy_to_clipboard(text)
        self.notify(f"Copied {what}: {text}", markup=False, timeout=4)

    def action_open_url(self) -> None:
        gen = self._focused_generation()
        if gen is None or not gen.result_url:
            self.notify("No result URL to open", severity="warning", timeout=3)
            return
        url = safe_url(gen.result_url)
        if url is None:
            self.notify(
                f"Refusing to open a URL that is not plain http(s): "
                f"{clean(gen.result_url, max_len=80)}",
                severity="warning",
                markup=False,
            )
            return
        self._open_in_browser(url)

    @work(thread=True, exit_on_error=False, group="browser")
    def _open_in_browser(self, url: str) -> None:
        # In a thread: finding the browser may start a process (xdg-settings).
        import webbrowser

        from queue_tui.tui.browser import no_browser_reason

        reason = no_browser_reason()
        if reason is None:
            self.call_from_thread(self.notify, f"Opening {url}", markup=False, timeout=3)
            if webbrowser.open(url):
                return
            reason = "none started"
        self.call_from_thread(self._copy_url_instead, url, reason)

    def _copy_url_instead(self, url: str, reason: str) -> None:
        self.copy_to_clipboard(url)
        self.notify(
            f"No browser here ({reason}): copied the URL instead\n{url}",
            markup=False,
            timeout=6,
        )

    def action_help(self) -> None:
        from queue_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- command palette ---------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if self.in_history and self.history_screen is not None:
            # Over the History view (or its full-screen detail): no queue action.
            yield from self._history_commands(self.history_screen, screen)
            return
        yield SystemCommand(
            "History",
            "Past generations, what they cost, per model and day (H)",
            self.action_history,
        )
        yield SystemCommand("Refresh now", "Poll the hub at once (r)", self.action_refresh)
        yield SystemCommand(
            "Resume polling" if self.poller.paused else "Pause polling",
            "Stop or restart polling the hub (p)",
            self.action_toggle_pause,
        )
        yield SystemCommand(
            "Clear all filters", "Reset every filter (F)", self.action_clear_filters
        )
        for name in (*SERVER_FILTERS, "search"):
            label = name.replace("_", " ")
            yield SystemCommand(
                f"Reset filter: {label}",
                f"Show every {label}" if name != "search" else "Clear the search text",
                lambda name=name: self.reset_filter(name),
            )
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Copy result URL or id", "Copy the selected generation's URL (c)", self.action_copy),
            ("Open result URL", "Open it in a browser (o)", self.action_open_url),
            ("Toggle detail pane", "Show or hide the pane (d)", self.action_toggle_detail),
            ("Sort by next column", "Cycle the sort column (s)", self.action_cycle_sort),
            (
                "Choose columns",
                "Show or hide table columns (remembered)",
                self.action_choose_columns,
            ),
            (
                "Cancel the selected generation",
                "DELETE it (or every marked one) on the hub, after a confirmation (del)",
                self.action_cancel_generation,
            ),
            (
                "Resubmit failed or cancelled generations",
                "The selected one, or every marked one, after a confirmation (R)",
                self.action_resubmit,
            ),
            (
                "Mark / unmark the selected row",
                "For an action on many rows (space)",
                self.action_toggle_mark,
            ),
            ("Mark every row shown", "Every row the filters show (*)", self.action_mark_shown),
            ("Clear the marks", "Unmark every row (U)", self.action_clear_marks),
            (
                "Watch / unwatch the selected generation",
                "Always be told when it finishes (w)",
                self.action_toggle_watch,
            ),
            ("Dismiss the finished row", "Hide it now (x)", self.action_dismiss_finished),
            (
                "Hide finished rows" if self.model.show_finished else "Show finished rows",
                "Rows that finished and linger (h)",
                self.action_toggle_finished,
            ),
            ("Toggle stats", "Per-model figures, depth, failures (t)", self.action_toggle_stats),
            ("Help", "Every key (?)", self.action_help),
        ]
        hub_actions = (self.action_cancel_generation, self.action_resubmit)
        for title, help_text, callback in commands:
            if not (self.read_only and callback in hub_actions):
                yield SystemCommand(title, help_text, callback)  # read-only: no hub action
        yield from self._textual_commands(screen)

    def _textual_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own: Theme, Quit, Screenshot...; not its "Keys" panel (our Help, `?`).
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command

    def _history_commands(self, history: HistoryScreen, screen: Screen) -> Iterable[SystemCommand]:
        """The palette over the History view: its own actions, no queue action."""
        from queue_tui.tui.screens.history import RANGES

        following = RANGES[(history.range_index + 1) % len(RANGES)][0]
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Back to the queue", "Close the History view (esc, H)", self.back_to_queue),
            (
                f"History: show {following}",
                "Cycle any time / last hour / day / week (t)",
                history.action_cycle_range,
            ),
            (
                "Toggle the summary",
                "Spend and count per model and day (s)",
                history.action_toggle_summary,
            ),
            ("Reload the history", "From the newest generation again (r)", history.action_reload),
            ("Copy result URL or id", "Copy the selected generation's URL (c)", self.action_copy),
            ("Open result URL", "Open it in a browser (o)", self.action_open_url),
            ("Help", "Every key (?)", self.action_help),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
        yield from self._textual_commands(screen)


def run_dashboard(
    settings: Settings, *, client: QueueClient, clock: Callable[[], float] = time.time
) -> None:
    """Entry point used by `queue-tui` (cli.py), which builds the client (the network,
    the embedded demo hub or a recording) and the clock its rows are read on."""
    QueueApp(settings, client=client, clock=clock).run()
