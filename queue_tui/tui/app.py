"""The live dashboard: `queue-tui` with no subcommand, or `queue-tui --demo`.

One long-lived worker runs `Poller.run`; each outcome is posted to the UI as a message
(`PollSucceeded` / `PollErrored`). The table is updated by a keyed diff
(`GenerationsTable.apply_rows`), so the user's place survives every poll. A failed poll
never ends the app: the error is shown, the last good rows stay (marked stale), and the
poller backs off.

Each page goes through the lifecycle tracker first (in the poll worker), and the table
shows the tracker's rows: in flight, finishing, finished and lingering. Cancel, watch,
toasts, stats and ETAs live in `queue_tui.tui.lifecycle` (a mixin of this app).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import webbrowser
from collections import Counter
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.events import Resize
from textual.screen import Screen
from textual.theme import Theme

from queue_tui.api.client import QueueClient
from queue_tui.api.errors import QueueError
from queue_tui.api.models import Generation
from queue_tui.config import Settings
from queue_tui.core.filters import SERVER_FILTERS, QueueFilters
from queue_tui.core.gc_policy import freeze_long_lived
from queue_tui.core.poller import Poller, PollFailed, PollOutcome, Snapshot
from queue_tui.core.sanitize import clean, safe_url
from queue_tui.tui.lifecycle import LIFECYCLE_BINDINGS, LifecycleMixin
from queue_tui.tui.messages import FiltersChanged, PollErrored, PollSucceeded
from queue_tui.tui.safe_text import toast_text
from queue_tui.tui.screens.detail import DetailScreen
from queue_tui.tui.screens.help import HelpScreen
from queue_tui.tui.screens.too_small import guard_size
from queue_tui.tui.textual_patches import install as install_textual_patches
from queue_tui.tui.widgets.detail_pane import DetailPane
from queue_tui.tui.widgets.filter_bar import FilterBar
from queue_tui.tui.widgets.footer import DashboardFooter
from queue_tui.tui.widgets.generations_table import DEFAULT_MARK, DONE, GenerationsTable
from queue_tui.tui.widgets.status_bar import (
    NEEDS_USER,
    StatusBar,
    StatusState,
    fault_advice,
    fault_summary,
)

log = logging.getLogger(__name__)

#: Seconds before the poll loop restarts after an unexpected (non-hub) exception.
CRASH_RETRY = 5.0
#: The longest the poll worker waits for a page to be painted before its follow-up.
PAGE_SHOWN_WAIT = 1.0
#: At start-up the first frame waits up to this long for the first page, so that it
#: shows rows (one paint) instead of an empty table repainted a moment later. A hub
#: slower than this gets the empty frame first, as before.
FIRST_FRAME_WAIT = 0.25


class QueueApp(LifecycleMixin, App[None]):
    """The dashboard. Attributes for tests and benchmarks:

    - `table` (GenerationsTable), `detail` (DetailPane), `filter_bar`, `status_bar`,
      `stats_panel`
    - `poller` (Poller: `.requests`, `.paused`, `.filters`), `client` (QueueClient)
    - `tracker` (Tracker), `watcher` (LifecycleWatcher), `stats` (QueueStats of the
      last poll), `announced` (lifecycle events shown so far); see `tui/lifecycle.py`
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
        *LIFECYCLE_BINDINGS,
        Binding("o", "open_url", "Open", show=False),
        Binding("d", "toggle_detail", "Pane", show=False),
        Binding("f", "toggle_filters", "Filters", show=False),
        Binding("ctrl+l", "clear_filters", "Clear filters", show=False, priority=True),
        Binding("escape", "focus_table", "Back to table"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        client: QueueClient | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 7,
        chaos: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        install_textual_patches()  # partial line updates cropped (Textual #5625); idempotent
        self.settings = settings
        self.clock = clock
        self._monotonic = monotonic
        if client is None:
            from queue_tui.connect import build_client

            client = build_client(settings, seed=seed, clock=clock, chaos=chaos)
        self.client = client
        self.filters: QueueFilters = settings.filters
        self.poller = Poller(
            client, settings.filters, interval=settings.interval, monotonic=monotonic
        )
        self.page_rows: list[Generation] = []
        self.dropped = 0
        self.latency: float | None = None
        self.last_ok_at: float | None = None
        self.last_error: str | None = None
        self.last_advice: str | None = None
        self.failure: PollFailed | None = None
        self.polls = 0
        self.failures = 0
        #: Pages whose follow-up (backfill, resolution) is done: tests wait on it.
        self.follow_ups = 0
        self._failure_toasted = False
        #: Set once the screen has painted the last page posted (see `_post_outcome`).
        self._page_shown = asyncio.Event()
        #: While `on_mount` waits for the first page (see `_first_frame`).
        self._first_page: asyncio.Future[PollSucceeded | PollErrored] | None = None
        self._detail_screen: DetailScreen | None = None
        self._main_screen: Screen | None = None
        self.table = GenerationsTable(clock=clock, id="table")
        self.detail = DetailPane(clock=clock, id="detail")
        self.filter_bar = FilterBar(settings.filters, id="filter-bar")
        self.status_bar = StatusBar(id="status-bar")
        self._shown_rows: list[Generation] = []
        # Counted once per render, not on every one-second tick: only a render changes them.
        self._shown_counts: Counter[str] = Counter()
        self.init_lifecycle()

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.filter_bar
        with Container(id="body"):
            yield self.table
            yield self.detail
            yield self.stats_panel
        yield self.status_bar
        yield DashboardFooter(read_only=self.settings.read_only)

    async def on_mount(self) -> None:
        self._main_screen = self.screen
        if self.settings.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.notify(
                    f"unknown theme {clean(self.settings.theme, max_len=40)}; try ctrl+p, Theme",
                    severity="warning",
                    markup=False,
                )
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._update_status()
        self.detail.notes_for = self.detail_notes
        self.set_interval(1.0, self._tick)
        self._first_page = asyncio.get_running_loop().create_future()
        self._poll_loop()
        self._event_stream_loop()
        guard_size(self)
        await self._first_frame(self._first_page)

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
            self.observe_snapshot(outcome)
            self._page_shown.clear()
            self._post(PollSucceeded(outcome, observed=True))
            # The follow-up requests (and parsing their answers) wait until the page is
            # on screen, so they never slow down showing it.
            # (`asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` can swallow
            # the worker's cancellation at exit, and the loop then never ends.)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PAGE_SHOWN_WAIT):
                    await self._page_shown.wait()
            await self.follow_up_snapshot(outcome)
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
        self.call_after_refresh(self._page_shown.set)
        if not message.observed:
            self.observe_now(snapshot)
        if snapshot.result.filters.server_key() != self.filters.server_key():
            return  # an answer to filters the user has since changed
        was_failing = self._failure_toasted
        self._failure_toasted = False
        self.page_rows = list(snapshot.rows)
        self.dropped = snapshot.dropped
        self.latency = snapshot.result.latency
        self.last_ok_at = self.clock()
        self.failure = None
        self.last_error = None
        self.last_advice = None
        self.polls += 1
        self.table.remove_class("-stale")
        self.filter_bar.learn_models({g.model_name for g in self.page_rows})
        self.refresh_stats(self.clock())
        self.render_rows()
        self.announce()
        if was_failing:
            self.notify("Connected again", severity="information", timeout=3)
        if self.polls == 1:
            self.call_after_refresh(freeze_long_lived)  # once painted: core/gc_policy.py

    def on_poll_errored(self, message: PollErrored) -> None:
        failure = message.failure
        self.failure = failure
        self.failures += 1
        self.last_error = fault_summary(failure.error)
        self.last_advice = fault_advice(failure.error, self.settings.token_help)
        if self.page_rows:
            self.table.add_class("-stale")
        self._update_status()
        # A one-off blip only shows in the status bar; a second failure in a row is
        # worth a toast (once per outage), and so is recovering from it.
        # A fault only the user can fix (a refused token, a wrong host) is toasted at once.
        needs_user = failure.error.kind in NEEDS_USER
        if (failure.attempt >= 2 or needs_user) and not self._failure_toasted:
            self._failure_toasted = True
            self.notify(
                toast_text(self.last_advice, max_len=300),
                title="Poll failed",
                severity="error",
                markup=False,
                timeout=6,
            )

    def current_rows(self) -> list[Generation]:
        """Every row shown right now, before client-side filtering: the tracker's active
        and pending rows and the finished ones that linger (as of the last render)."""
        return self._shown_rows

    def render_rows(self) -> None:
        """Apply the client-side filters and diff the result into the table."""
        now = self.clock()
        filters = self.filters
        self._shown_rows, marks = self.lifecycle_rows(now)
        self._shown_counts = self.status_counts(self._shown_rows)
        rows: Iterable[Generation] = self._shown_rows
        if not self.show_finished:
            rows = [g for g in rows if marks.get(g.generation_id, DEFAULT_MARK).state != DONE]
        if filters.active():
            rows = [g for g in rows if filters.matches(g)]
        self.table.apply_rows(rows, now, marks)
        self._update_detail(now)
        self._update_status()

    # -- periodic ----------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.clock()
        self.lifecycle_tick(now)
        self.table.tick(now)
        self._update_detail(now)
        self._update_status()

    def _status_state(self) -> StatusState:
        rows = self.current_rows()
        retry_in = None
        if self.failure is not None:
            retry_in = max(0.0, self.failure.next_try_at - self._monotonic())
        return StatusState(
            host=self.settings.display_host,
            paused=self.poller.paused,
            error=self.last_error,
            error_kind=None if self.failure is None else self.failure.error.kind,
            retry_in=retry_in,
            in_flight=self.poller.in_flight,
            since_ok=None if self.last_ok_at is None else max(0.0, self.clock() - self.last_ok_at),
            interval=self.poller.interval,
            latency=self.latency,
            counts=self._shown_counts,
            shown=self.table.row_count,
            total=len(rows),
            dropped=self.dropped,
            filters=describe_filters(self.filters),
            polls=self.polls,
            events=self.events_state.value,
        )

    def _update_status(self) -> None:
        state = self._status_state()
        self.status_bar.set_state(state)
        # Dimmed while the rows are old: a failing hub, or one that stopped answering.
        self.table.set_class(
            bool(self.page_rows) and (state.stale or self.failure is not None), "-stale"
        )

    def _empty_message(self) -> str:
        """Why the table is empty, for the detail pane."""
        if self.polls == 0:
            if self.failure is not None:
                return f"Cannot load the queue: {self.last_advice}"
            return "Waiting for the first page from the hub…"
        if not self.current_rows():
            if self.filters.status:
                return f"No {self.filters.status} generations."
            return "The queue is empty: nothing is queued or processing."
        return "No generations match the filters (ctrl+l clears them)."

    def _update_detail(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        self.detail.empty_message = (
            self._empty_message() if self.table.row_count == 0 else "No generation selected"
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

    # -- events from widgets -----------------------------------------------------------

    def on_filters_changed(self, message: FiltersChanged) -> None:
        self.filters = message.filters
        self.poller.set_filters(message.filters)
        self.refresh_stats(self.clock())
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
        }
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        on_dashboard = self.screen is self._main_screen
        lifecycle = self.check_lifecycle_action(action, on_dashboard)
        if lifecycle is not None:
            return lifecycle
        if action == "focus_table":
            # Offered (and shown in the footer) only while focus is elsewhere.
            return on_dashboard and self.focused is not self.table
        return on_dashboard or action not in self.DASHBOARD_ACTIONS

    def action_refresh(self) -> None:
        if self.poller.paused:
            self.notify("Polling is paused: press p to resume", timeout=3)
            return
        self.poller.refresh_now()

    def action_toggle_pause(self) -> None:
        self.poller.toggle_pause()
        self._update_status()

    def action_focus_search(self) -> None:
        self.filter_bar.focus_search()

    def action_focus_table(self) -> None:
        self.close_stats_over_table()
        self.table.focus()

    def action_cycle_sort(self) -> None:
        self.table.action_cycle_sort()

    def action_reverse_sort(self) -> None:
        self.table.action_reverse_sort()

    def action_toggle_detail(self) -> None:
        self.detail.toggle_class("-hidden")

    def action_toggle_filters(self) -> None:
        self.filter_bar.toggle_class("-show-target")

    def action_clear_filters(self) -> None:
        self.filter_bar.set_filters(QueueFilters())
        self.notify("Filters cleared", timeout=2)

    def reset_filter(self, name: str) -> None:
        self.filter_bar.set_filters(self.filters.with_(**{name: None}))

    def action_open_detail(self) -> None:
        if self._detail_screen is not None:
            return
        gen = self.table.selected_generation
        if gen is None:
            return
        screen = DetailScreen(gen, clock=self.clock)
        screen.pane.notes_for = self.detail_notes
        self._detail_screen = screen

        def closed(_: None) -> None:
            self._detail_screen = None

        self.push_screen(screen, closed)

    def _focused_generation(self) -> Generation | None:
        if self._detail_screen is not None and self._detail_screen.pane.generation is not None:
            return self._detail_screen.pane.generation
        return self.table.selected_generation

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
        self.notify(f"Opening {url}", markup=False, timeout=3)
        self._open_in_browser(url)

    @work(thread=True, exit_on_error=False, group="browser")
    def _open_in_browser(self, url: str) -> None:
        webbrowser.open(url)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- command palette ---------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh now", "Poll the hub at once (r)", self.action_refresh)
        yield SystemCommand(
            "Resume polling" if self.poller.paused else "Pause polling",
            "Stop or restart polling the hub (p)",
            self.action_toggle_pause,
        )
        yield SystemCommand(
            "Clear all filters", "Reset every filter (ctrl+l)", self.action_clear_filters
        )
        for name in (*SERVER_FILTERS, "search"):
            label = name.replace("_", " ")
            yield SystemCommand(
                f"Reset filter: {label}",
                f"Show every {label}" if name != "search" else "Clear the search text",
                lambda name=name: self.reset_filter(name),
            )
        yield SystemCommand(
            "Copy result URL or id", "Copy the selected generation's URL (c)", self.action_copy
        )
        yield SystemCommand("Open result URL", "Open it in a browser (o)", self.action_open_url)
        yield SystemCommand("Switch theme", "Pick a colour theme", self.action_change_theme)
        yield SystemCommand(
            "Toggle detail pane", "Show or hide the pane (d)", self.action_toggle_detail
        )
        yield SystemCommand(
            "Sort by next column", "Cycle the sort column (s)", self.action_cycle_sort
        )
        for title, help_text, callback in self.lifecycle_commands():
            yield SystemCommand(title, help_text, callback)
        yield SystemCommand("Help", "Every key (?)", self.action_help)
        yield from super().get_system_commands(screen)


def describe_filters(filters: QueueFilters) -> str:
    """Short form of the active filters for the status bar: `media=video /storyboards`."""
    parts = []
    for name, value in filters.active().items():
        if name == "search":
            parts.append(f"/{value}")
        else:
            parts.append(f"{'media' if name == 'media_type' else name}={value}")
    return " ".join(parts)


def dashboard_app(settings: Settings, seed: int = 7, chaos: float = 0.0) -> QueueApp:
    """The app `queue-tui` runs. A replay (`--replay`) runs on the recording's clock, so
    ages and "updated Ns ago" read as they did when it was recorded."""
    if settings.replay:
        from queue_tui.connect import client_and_clock

        client, clock = client_and_clock(settings)
        return QueueApp(settings, client=client, clock=clock)
    return QueueApp(settings, seed=seed, chaos=chaos)


def run_dashboard(settings: Settings, seed: int = 7, chaos: float = 0.0) -> None:
    """Entry point used by `queue-tui` (cli.py)."""
    dashboard_app(settings, seed=seed, chaos=chaos).run()
