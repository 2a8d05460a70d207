"""Lifecycle and insight on the dashboard (mixed into `QueueApp`).

The headless core does the work: a `Tracker` keyed by generation_id turns polls into
lifecycle events, and a `LifecycleWatcher` resolves how vanished rows ended (event
stream, terminal status queries, get-by-id). The same two feed `queue-tui events` and
`queue-tui wait`, so the screen and a script always agree. This mixin adds what the
dashboard makes of them:

- the table shows `tracker` rows: active ones, vanished ones still being resolved
  ("… finishing": they never silently disappear), and finished ones for `--linger`
  seconds (dimmed; `x` dismisses one, `h` hides them all);
- `del`/`C` cancels the selected generation after a confirmation (404: "already
  finished"); `--read-only` removes the action (binding, palette entry) and the footer
  says "read-only";
- toasts: a failure (model and the error's headline), a success with
  `--notify-success`, always a watched (`w`, "★") generation's end; `--bell` rings with
  a failure toast. Failure and success toasts are paced (`ToastPolicy`, `ToastGate`):
  at most one toast (or summary) of a kind per 15 s, 30 s below 100x30, where toasts
  are also one at a time and shorter; what comes in between is held and told in the
  next one ("3 more generations failed: ..."). Watched ones are never held, and the
  status bar and the stats panel (`t`) count every failure at once;
- `t` shows the stats panel (`compute_stats` once per poll: per model and overall, a
  depth sparkline, failures grouped by message); the ETA column comes from the same
  computation.

Polls are fed to the tracker in the poll worker (`observe_snapshot`), before the page
is posted to the UI; the event stream runs in a second long-lived worker. Both run on
the app's loop, so the tracker needs no lock; their events wait in a list until the UI
handles the next `PollSucceeded` or `LifecycleNews` message (never lost when a newer
message replaces an older one).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from textual import work
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widget import Widget

from queue_tui.api.client import CancelOutcome
from queue_tui.api.errors import QueueError
from queue_tui.api.models import TERMINAL_STATUSES, Generation
from queue_tui.core.outcomes import EventsState, LifecycleWatcher
from queue_tui.core.poller import Snapshot
from queue_tui.core.sanitize import clean, safe_url
from queue_tui.core.stats import QueueStats, compute_stats, error_headline, fmt_eta
from queue_tui.core.timefmt import DASH, fmt_coarse
from queue_tui.core.tracker import UNKNOWN_STATUS, EventKind, LifecycleEvent, RowState, Tracker
from queue_tui.tui.messages import LifecycleNews
from queue_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from queue_tui.tui.widgets.detail_pane import DetailNotes
from queue_tui.tui.widgets.generations_table import (
    ACTIVE,
    DONE,
    PENDING,
    SHORT_ID,
    RowMark,
    short_eta,
)
from queue_tui.tui.widgets.stats_panel import StatsPanel

if TYPE_CHECKING:
    from textual.app import App

    from queue_tui.api.client import QueueClient
    from queue_tui.config import Settings
    from queue_tui.core.filters import QueueFilters
    from queue_tui.core.poller import Poller
    from queue_tui.tui.widgets.generations_table import GenerationsTable

    _Base = App[None]
else:
    _Base = object

#: Individual failure toasts per batch of events; more become one summary toast.
TOASTS_PER_BATCH = 3
FAILURE_TIMEOUT = 8.0
WATCHED_TIMEOUT = 20.0
SUCCESS_TIMEOUT = 5.0
#: From this width the stats panel sits beside (or below) the table; narrower, it takes
#: the table's place (see app.tcss).
STATS_BESIDE_TABLE = 120


@dataclass(frozen=True)
class ToastPolicy:
    """How chatty the failure (and `--notify-success`) toasts may be.

    Watched generations are not limited: the user asked to be told.
    """

    #: Seconds (app clock) after a toast of one kind before the next one of that kind;
    #: what arrives in between is held and told in one toast when the gap ends.
    gap: float
    #: Individual toasts in one go; more become one summary toast.
    per_batch: int
    #: Characters of an error's headline in a toast.
    error_len: int
    failure_timeout: float
    success_timeout: float


ROOMY_TOASTS = ToastPolicy(
    gap=15.0,
    per_batch=TOASTS_PER_BATCH,
    error_len=120,
    failure_timeout=FAILURE_TIMEOUT,
    success_timeout=SUCCESS_TIMEOUT,
)
#: At 80x24 a toast covers a third of the table: fewer, shorter (two lines of a
#: toast: model, id and 48 characters of error), briefer ones.
COMPACT_TOASTS = ToastPolicy(
    gap=30.0, per_batch=1, error_len=48, failure_timeout=6.0, success_timeout=4.0
)
#: Narrower or shorter terminals than this get `COMPACT_TOASTS`.
COMPACT_TOASTS_BELOW = (100, 30)


class ToastGate:
    """At most one toast per kind per `gap` seconds (no Textual: plain bookkeeping).

    `admit` takes a kind's new events and returns what to tell now: nothing while the
    kind's gap runs (the events are held), else everything held so far plus the new
    events. Nothing is dropped: held events wait for the next open gap.
    """

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self.held: dict[str, list[LifecycleEvent]] = {}

    def is_open(self, kind: str, now: float, gap: float) -> bool:
        last = self._last.get(kind)
        # A clock set back (wall clock) must not keep the gate shut for hours.
        return last is None or now >= last + gap or now < last

    def admit(
        self, kind: str, events: Iterable[LifecycleEvent], now: float, gap: float
    ) -> tuple[list[LifecycleEvent], int]:
        """(events to tell now, how many of them were held from an earlier call)."""
        held = self.held.setdefault(kind, [])
        before = len(held)
        held.extend(events)
        if not held or not self.is_open(kind, now, gap):
            return [], 0
        self.held[kind] = []
        return held, before

    def told(self, kind: str, now: float) -> None:
        self._last[kind] = now

    def holding(self) -> bool:
        return any(self.held.values())


LIFECYCLE_BINDINGS: list[Binding] = [
    Binding("delete,C", "cancel_generation", "Cancel"),
    Binding("t", "toggle_stats", "Stats"),
    Binding("w", "toggle_watch", "Watch", show=False),
    Binding("x", "dismiss_finished", "Dismiss", show=False),
    Binding("h", "toggle_finished", "Hide finished", show=False),
]
#: Actions on the selected generation: offered on the dashboard and the detail view.
ROW_ACTIONS = frozenset({"cancel_generation", "toggle_watch", "dismiss_finished"})
#: Actions that change something on the hub: gone in read-only mode.
HUB_ACTIONS = frozenset({"cancel_generation"})
DASHBOARD_ONLY = frozenset({"toggle_stats", "toggle_finished"})

SOURCE_NAMES = {
    "poll": "the queue listing",
    "events": "the event stream",
    "status-query": "a status query",
    "get": "a lookup",
    "get-404": "a lookup (no longer queued)",
}


def short_id(gid: str) -> str:
    return clean(gid)[:SHORT_ID]


def path_safe(gid: str) -> bool:
    """The id can go into a URL path as it is (hub ids are uuids; a hostile one is not)."""
    return bool(gid) and quote(gid, safe="") == gid


class LifecycleMixin(_Base):
    """Tracker, watcher, stats and the lifecycle actions of `QueueApp`."""

    # Provided by QueueApp.
    settings: Settings
    client: QueueClient
    clock: Callable[[], float]
    poller: Poller
    filters: QueueFilters
    table: GenerationsTable

    LIFECYCLE_ACTIONS: ClassVar = ROW_ACTIONS | DASHBOARD_ONLY

    def init_lifecycle(self) -> None:
        settings = self.settings
        self.tracker = Tracker(linger=settings.linger, clock=self.clock)
        # The watcher paces its resolution rounds on the app's clock (not a monotonic
        # one): on a frozen or replayed clock, rounds follow that clock's polls.
        self.watcher = LifecycleWatcher(
            self.client,
            self.tracker,
            settings.interval,
            clock=self.clock,
            monotonic=self.clock,
            backfill=True,
        )
        self.stats: QueueStats | None = None
        self.stats_panel = StatsPanel(id="stats")
        #: Finished rows that linger are shown (`h` toggles).
        self.show_finished = True
        self.events_state: EventsState = self.watcher.events_state
        #: Every lifecycle event announced so far, newest last (for tests and tools).
        self.announced: list[LifecycleEvent] = []
        self._unannounced: list[LifecycleEvent] = []
        self._observed_key: tuple[Any, ...] | None = None
        self._next_expiry = math.inf
        self._pending_shown: list[str] = []
        #: Paces failure and success toasts (see `ToastPolicy`).
        self.toast_gate = ToastGate()

    # -- feeding the tracker (poll worker and event stream worker) -----------------------

    def observe_snapshot(self, snapshot: Snapshot) -> None:
        """In the poll worker: observe the page (no requests); the page is shown next,
        then `follow_up_snapshot` resolves what vanished."""
        quiet = self._note_filters(snapshot)
        events = self.watcher.observe_snapshot(snapshot, self.clock())
        self._queue_events(events, quiet)

    async def follow_up_snapshot(self, snapshot: Snapshot) -> None:
        """In the poll worker, after the page was posted: the history backfill (first
        page of a view) and resolving vanished rows over HTTP, so a slow hub never holds
        the page back; what they learn is shown by `LifecycleNews`."""
        events, added = await self.watcher.follow_up(snapshot.result.filters)
        if events or added:
            self._queue_events(events)
            self.post_message(LifecycleNews(history=added > 0))

    def observe_now(self, snapshot: Snapshot) -> None:
        """A page that did not come through the poll worker (posted by a test or a
        benchmark): observe it at once, without resolving anything."""
        quiet = self._note_filters(snapshot)
        result = snapshot.result
        events = self.tracker.observe(result.page.generations, self.clock(), filters=result.filters)
        self._queue_events(events, quiet)

    def _note_filters(self, snapshot: Snapshot) -> bool:
        """True for the first page of a view: rows it lists as already finished are old
        news (a `--status failed` view), not something that just happened."""
        key = snapshot.result.filters.server_key()
        quiet = key != self._observed_key
        self._observed_key = key
        return quiet

    def _queue_events(self, events: Iterable[LifecycleEvent], quiet: bool = False) -> None:
        for event in events:
            if quiet and event.is_final and event.source == "poll":
                continue
            self._unannounced.append(event)

    @work(group="events", exit_on_error=False)
    async def _event_stream_loop(self) -> None:
        await self.watcher.run_event_stream(self._stream_events, on_state=self._stream_state)

    def _stream_events(self, events: list[LifecycleEvent]) -> None:
        self._queue_events(events)
        self.post_message(LifecycleNews())

    def _stream_state(self, state: EventsState) -> None:
        self.events_state = state
        self._update_status()

    def on_lifecycle_news(self, message: LifecycleNews) -> None:
        if message.history:
            # Finished rows from the hub's lists: percentiles, throughput, ETAs.
            self.refresh_stats(self.clock())
        if self._unannounced or message.history:
            self.render_rows()
            self.announce()

    # -- what the table shows --------------------------------------------------------------

    def refresh_stats(self, now: float) -> None:
        """Once per poll (and after a filter change): stats, ETAs, the stats panel."""
        filters = self.filters if self.filters.active() else None
        self.stats = compute_stats(self.tracker, now, filters=filters)
        self.table.etas = self.stats.etas
        if self.stats_visible:
            self.stats_panel.show(self.stats)

    def lifecycle_rows(self, now: float) -> tuple[list[Generation], dict[str, RowMark]]:
        """The rows to show before client-side filtering, and their marks.

        Active and pending rows always; finished ones while they linger (or while the
        hub still lists them, under a terminal status filter). `h` hides the lingering
        ones later, like a filter (they still count in the status bar's total).
        """
        tracker = self.tracker
        linger = tracker.linger
        etas = self.stats.etas if self.stats is not None else {}
        watched = tracker.watched
        rows: list[Generation] = []
        marks: dict[str, RowMark] = {}
        pending_shown: list[str] = []
        next_expiry = math.inf
        finished, pending = RowState.FINISHED, RowState.PENDING
        eta_text, shared = _eta_text, _MARKS
        # Under a terminal status filter the hub lists finished rows: they are the view.
        terminal_view = self.filters.status in TERMINAL_STATUSES
        for t in tracker.tracked():
            gen = t.generation
            gid = gen.generation_id
            state = t.state
            if state is finished:
                if t.in_view and terminal_view:
                    mark_state, eta = ACTIVE, ""
                else:
                    until = (t.finished_at or now) + linger
                    if linger <= 0 or now > until:
                        if gid in watched:
                            # Told already; let the tracker forget it at its next expiry.
                            tracker.unwatch(gid)
                        continue
                    next_expiry = min(next_expiry, until)
                    mark_state, eta = DONE, ""
            else:
                mark_state = PENDING if state is pending else ACTIVE
                eta = eta_text(etas.get(gid))
            is_watched = gid in watched
            if mark_state or is_watched or eta != DASH:
                # Equal marks are one shared tuple: no new object per row and per poll.
                key = (mark_state, is_watched, eta)
                mark = shared.get(key)
                if mark is None:
                    mark = shared[key] = RowMark(mark_state, is_watched, eta)
                marks[gid] = mark
                if mark_state == PENDING:
                    pending_shown.append(gid)
            rows.append(gen)
        self._next_expiry = next_expiry
        self._pending_shown = pending_shown
        return rows, marks

    def status_counts(self, rows: Iterable[Generation]) -> Counter[str]:
        """Rows per status for the status bar; rows that left the queue count as
        "finishing", not as the status they last had."""
        counts = Counter(map(_STATUS, rows))
        shown = self._pending_shown
        if shown:
            tracker = self.tracker
            for gid in shown:
                t = tracker.get(gid)
                if t is not None and counts[t.generation.status] > 0:
                    counts[t.generation.status] -= 1
                    counts["finishing"] += 1
            counts += Counter()  # drop the zeros
        return counts

    def lifecycle_tick(self, now: float) -> None:
        """Every second: drop finished rows whose linger just ran out; tell the toasts
        held back once their gap has run out, even if no poll brings news."""
        if now > self._next_expiry:
            self.render_rows()
        if self.toast_gate.holding():
            self._tell([], [], now)

    # -- notifications ---------------------------------------------------------------------

    @property
    def toast_policy(self) -> ToastPolicy:
        narrow, short = COMPACT_TOASTS_BELOW
        size = self.size
        return COMPACT_TOASTS if size.width < narrow or size.height < short else ROOMY_TOASTS

    def announce(self) -> None:
        """Toasts (and the bell) for the events gathered since the last call, and for
        those held back (`toast_gate`) whose gap has run out."""
        events, self._unannounced = self._unannounced, []
        if not events and not self.toast_gate.holding():
            return
        self.announced.extend(events)
        del self.announced[:-500]
        watched = self.tracker.watched
        failures: list[LifecycleEvent] = []
        successes: list[LifecycleEvent] = []
        rang = False
        for event in events:
            if not event.is_final or event.source == "cancel":
                continue  # a cancel from here has its own toast
            if event.generation_id in watched:
                # Asked for by the user: told at once, and not counted against the gap.
                self._notify_watched(event)
                rang = rang or event.kind is EventKind.FAILED
                continue
            if not self.filters.matches(event.generation):
                continue  # the user narrowed the view: not news about what they watch
            if event.kind is EventKind.FAILED:
                failures.append(event)
            elif event.kind is EventKind.SUCCEEDED and self.settings.notify_success:
                successes.append(event)
        self._tell(failures, successes, self.clock(), rang=rang)

    def _tell(
        self,
        failures: list[LifecycleEvent],
        successes: list[LifecycleEvent],
        now: float,
        *,
        rang: bool = False,
    ) -> None:
        """Failure and success toasts through the gate; the bell with a failure toast
        (`rang`: a watched generation failed)."""
        policy = self.toast_policy
        if self._toast_gated("failed", failures, now, policy):
            rang = True
        self._toast_gated("succeeded", successes, now, policy)
        if self.settings.bell and rang:
            self.bell()

    def _toast_gated(
        self, kind: str, events: list[LifecycleEvent], now: float, policy: ToastPolicy
    ) -> bool:
        """Toast `events` of one kind, or hold them until the kind's gap has run out (a
        held event is told with the next toast of its kind: "3 more generations
        failed"). True when a toast went out."""
        gate = self.toast_gate
        batch, held = gate.admit(kind, events, now, policy.gap)
        if held:
            # Held while the user may have narrowed the view: only what it shows is news.
            matches = self.filters.matches
            kept = [e for e in batch[:held] if matches(e.generation)]
            batch, held = kept + batch[held:], len(kept)
        if not batch:
            return False
        gate.told(kind, now)
        # Events held back are folded into one summary, however few.
        per_batch = 1 if held else policy.per_batch
        if kind == "failed":
            error_len = policy.error_len
            self._toast_batch(
                batch,
                "failed",
                lambda gen: _error(gen, error_len),
                severity="error",
                timeout=policy.failure_timeout,
                per_batch=per_batch,
                more=held > 0,
                common=_common_error(batch, max(20, error_len // 2)),
                hint=" (t: stats)",
            )
        else:
            self._toast_batch(
                batch,
                "succeeded",
                _url,
                severity="information",
                timeout=policy.success_timeout,
                per_batch=per_batch,
                more=held > 0,
            )
        return True

    def _toast_batch(
        self,
        events: list[LifecycleEvent],
        outcome: str,
        detail: Callable[[Generation], str],
        *,
        severity: SeverityLevel,
        timeout: float,
        per_batch: int = TOASTS_PER_BATCH,
        more: bool = False,
        common: str = "",
        hint: str = "",
    ) -> None:
        """One toast per event, or a single summary when there are many."""
        if len(events) > per_batch:
            count = f"{len(events)} more" if more else str(len(events))
            self.notify(
                f"{count} generations {outcome}: {_by_model(events)}{common}{hint}",
                title=f"Generations {outcome}",
                severity=severity,
                markup=False,
                timeout=timeout,
            )
            return
        for event in events:
            gen = event.generation
            self.notify(
                f"{_model(gen)} · {short_id(gen.generation_id)}: {detail(gen)}",
                title=f"Generation {outcome}",
                severity=severity,
                markup=False,
                timeout=timeout,
            )

    def _notify_watched(self, event: LifecycleEvent) -> None:
        gen = event.generation
        head = f"★ {_model(gen)} · {short_id(gen.generation_id)}"
        kind = event.kind
        if kind is EventKind.SUCCEEDED:
            message, severity = f"{head} succeeded: {_url(gen)}", "information"
        elif kind is EventKind.FAILED:
            message, severity = f"{head} failed: {_error(gen)}", "error"
        elif kind is EventKind.CANCELLED:
            message, severity = f"{head} was cancelled", "warning"
        else:
            message = f"{head} finished; the hub did not say how"
            severity = "warning"
        self.notify(
            message,
            title="Watched generation finished",
            severity=severity,  # type: ignore[arg-type]
            markup=False,
            timeout=WATCHED_TIMEOUT,
        )

    # -- the detail pane ---------------------------------------------------------------------

    def detail_notes(self, gen: Generation) -> DetailNotes:
        """Lines the detail pane adds under the status: watched, outcome, linger, ETA."""
        gid = gen.generation_id
        tracker = self.tracker
        notes: list[tuple[str, str]] = []
        t = tracker.get(gid)
        if gid in tracker.watched:
            if t is not None and t.state is RowState.FINISHED:
                notes.append(("watched", "★ (w unwatches)"))
            else:
                notes.append(("watched", "★ you are told when it finishes (w unwatches)"))
        if t is None:
            return tuple(notes)
        if t.state is RowState.PENDING:
            notes.append(("outcome", "… left the queue; finding out how it ended"))
        elif t.state is RowState.FINISHED:
            if gen.status == UNKNOWN_STATUS:
                notes.append(("outcome", "finished; the hub no longer lists it nor says how"))
            elif t.outcome_source == "cancel":
                notes.append(("outcome", "cancelled from this dashboard"))
            elif t.outcome_source:
                notes.append(("outcome", f"learnt from {SOURCE_NAMES.get(t.outcome_source, '?')}"))
            if not t.in_view and tracker.linger > 0:
                notes.append(
                    (
                        "finished",
                        f"stays {fmt_coarse(tracker.linger)} after it ended; "
                        "x dismisses, h hides finished rows",
                    )
                )
        else:
            eta = self.stats.eta_for(gid) if self.stats is not None else None
            if eta is not None:
                notes.append(("eta", f"{fmt_eta(eta)} until done (recent throughput)"))
            elif gen.status in ("queued", "processing"):
                notes.append(("eta", f"{DASH} (too few recent completions of this model)"))
        return tuple(notes)

    # -- actions -----------------------------------------------------------------------------

    def check_lifecycle_action(self, action: str, on_dashboard: bool) -> bool | None:
        """`check_action` for the lifecycle actions (None: not one of them)."""
        if action not in self.LIFECYCLE_ACTIONS:
            return None
        if action in HUB_ACTIONS and self.settings.read_only:
            return False
        if isinstance(self.screen, ModalScreen):
            return False
        if action in DASHBOARD_ONLY:
            return on_dashboard
        return True

    def action_cancel_generation(self) -> None:
        if self.settings.read_only:
            self.notify("Read-only: cancelling is turned off", severity="warning", timeout=3)
            return
        gen = self._focused_generation()
        if gen is None:
            self.notify("Nothing selected to cancel", severity="warning", timeout=3)
            return
        gid = gen.generation_id
        label = f"{_model(gen)} · {short_id(gid)}"
        t = self.tracker.get(gid)
        if t is not None and t.state is RowState.FINISHED:
            status = clean(gen.status, max_len=20)
            self.notify(
                f"{label} has already finished ({status}): nothing to cancel",
                severity="warning",
                markup=False,
                timeout=4,
            )
            return
        if not path_safe(gid):
            self.notify(
                f"Cannot cancel {label}: its id is not safe to put in a URL",
                severity="error",
                markup=False,
            )
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._cancel_on_hub(gid, label)

        self.push_screen(ConfirmCancelScreen(gen, self.clock()), answered)

    @work(group="cancel", exit_on_error=False)
    async def _cancel_on_hub(self, gid: str, label: str) -> None:
        try:
            outcome, events = await self.watcher.cancel(gid, self.clock())
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
            self._queue_events(events)
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

    def action_toggle_watch(self) -> None:
        gen = self._focused_generation()
        if gen is None:
            self.notify("Nothing selected to watch", severity="warning", timeout=3)
            return
        gid = gen.generation_id
        label = f"{_model(gen)} · {short_id(gid)}"
        if gid in self.tracker.watched:
            self.tracker.unwatch(gid)
            self.notify(f"No longer watching {label}", markup=False, timeout=3)
        else:
            self.tracker.watch(gid)
            t = self.tracker.get(gid)
            if t is not None and t.state is RowState.FINISHED:
                self.notify(
                    f"{label} has already finished ({clean(gen.status, max_len=20)})",
                    markup=False,
                    timeout=4,
                )
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
        t = self.tracker.get(gid)
        if t is None or t.state is not RowState.FINISHED:
            self.notify(
                "Only finished rows can be dismissed (del cancels one in flight)",
                severity="warning",
                timeout=3,
            )
            return
        self.tracker.unwatch(gid)
        self.tracker.dismiss(gid)
        if self._detail_screen is not None:
            self._detail_screen.dismiss(None)
        self.render_rows()

    def action_toggle_finished(self) -> None:
        self.show_finished = not self.show_finished
        self.render_rows()
        if self.show_finished:
            self.notify("Finished rows shown (h hides them)", timeout=2)
        else:
            self.notify("Finished rows hidden (h shows them)", timeout=2)

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
            self.stats_panel.show(self.stats)
            if self.size.width < STATS_BESIDE_TABLE:
                self.stats_panel.focus()  # it took the table's place
        else:
            self.table.focus()

    def close_stats_over_table(self) -> None:
        """Going back to the table closes the stats panel where it took the table's place."""
        body = self._body
        if body is not None and self.stats_visible and self.size.width < STATS_BESIDE_TABLE:
            body.remove_class("-stats")

    def lifecycle_commands(self) -> Iterable[tuple[str, str, Callable[[], Any]]]:
        """Command palette entries: (title, help, callback)."""
        if not self.settings.read_only:
            yield (
                "Cancel the selected generation",
                "DELETE it on the hub, after a confirmation (del)",
                self.action_cancel_generation,
            )
        yield (
            "Watch / unwatch the selected generation",
            "Always be told when it finishes (w)",
            self.action_toggle_watch,
        )
        yield ("Dismiss the finished row", "Hide it now (x)", self.action_dismiss_finished)
        yield (
            "Show finished rows" if not self.show_finished else "Hide finished rows",
            "Rows that finished and linger (h)",
            self.action_toggle_finished,
        )
        yield ("Toggle stats", "Per-model figures, depth, failures (t)", self.action_toggle_stats)

    # Provided by QueueApp.
    if TYPE_CHECKING:
        _detail_screen: Any

        def render_rows(self) -> None: ...
        def _update_status(self) -> None: ...
        def _focused_generation(self) -> Generation | None: ...


_STATUS = attrgetter("status")
#: Every distinct `RowMark` made so far (at most states x watched x ETA texts: ~1,200).
_MARKS: dict[tuple[str, bool, str], RowMark] = {}
#: `short_eta` text by whole minutes (its text depends on nothing else from a minute on).
_ETA_TEXTS: dict[int, str] = {}
_ETA_TEXTS_MAX = 4096


def _eta_text(seconds: float | None) -> str:
    """`short_eta(seconds)`, without formatting a string per row and per poll."""
    if seconds is None or not 60.0 <= seconds < math.inf:
        return short_eta(seconds)
    minutes = round(seconds / 60)
    text = _ETA_TEXTS.get(minutes)
    if text is None:
        if len(_ETA_TEXTS) >= _ETA_TEXTS_MAX:
            _ETA_TEXTS.clear()
        text = _ETA_TEXTS[minutes] = short_eta(seconds)
    return text


def _model(gen: Generation) -> str:
    return clean(gen.model_name, max_len=40)


def _error(gen: Generation, max_len: int = 120) -> str:
    return error_headline(gen.error_message, max_len=max_len) or "(no error message)"


def _common_error(events: list[LifecycleEvent], max_len: int) -> str:
    """ "; 3× <headline>" for the error most of a summary's failures share, else ""."""
    counts = Counter(_error(e.generation, max_len) for e in events)
    if not counts:
        return ""
    text, n = counts.most_common(1)[0]
    return f"; {n}× {text}" if n >= 2 and n * 2 >= len(events) else ""


def _url(gen: Generation) -> str:
    if not gen.result_url:
        return "(no result URL)"
    return safe_url(gen.result_url) or clean(gen.result_url, max_len=200)


def _by_model(events: list[LifecycleEvent]) -> str:
    counts = Counter(_model(e.generation) for e in events)
    return ", ".join(f"{name} ×{n}" for name, n in counts.most_common(3)) + (
        ", …" if len(counts) > 3 else ""
    )


__all__ = [
    "HUB_ACTIONS",
    "LIFECYCLE_BINDINGS",
    "LifecycleMixin",
    "ToastGate",
    "ToastPolicy",
    "path_safe",
    "short_id",
]
