"""The dashboard's model, without Textual: what the screen shows, as plain records.

The headless core does the work: a `Tracker` keyed by generation_id turns polls into
lifecycle events, and a `LifecycleWatcher` resolves how vanished rows ended (event
stream, terminal status queries, get-by-id). The same two feed `queue-tui events` and
`queue-tui wait`, so the screen and a script always agree. `DashboardModel` adds what
the dashboard makes of them (the app only shows its records):

- `rows`: the tracker's rows (`RowsView`): active ones, vanished ones still being
  resolved ("… finishing": they never silently disappear), and finished ones for
  `--linger` seconds (dimmed; `x` dismisses one, `h` hides them all), with their marks
  and the status bar's counts;
- `marked`: the rows the user marked (`space`, `*`) for an action on many rows
  (`core/actions.py`), kept by id through polls, sorting and filtering, dropped with
  their row; `resubmitted_as` / `resubmitted_from`: this session's resubmits, which
  the detail notes link both ways;
- toasts (`Toast`): a failure (model and the error's headline), a success with
  `--notify-success`, always a watched ("★") generation's end; `--bell` rings with a
  failure toast. Failure and success toasts are paced (`ToastPolicy`, `ToastGate`): at
  most one toast (or summary) of a kind per 15 s, 30 s below 100x30, where toasts are
  also one at a time and shorter; what comes in between is held and told in the next
  one ("3 more generations failed: ..."). Watched ones are never held. A second failed
  poll in a row (or one only the user can fix) is toasted once per outage, and so is
  "Connected again"; the configuration's warnings once at start;
- `detail_notes`: the lines the detail pane adds under a row's status;
- `stats` (`compute_stats` once per poll): the stats panel and the ETA column.

Polls are fed in the poll worker (`observe_snapshot`), before the page is shown; the
event stream in a second worker. Both run on the app's loop, so the tracker needs no
lock; their events wait in a list until the next `announce` (never lost when a newer UI
message replaces an older one).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from queue_tui.api.models import TERMINAL_STATUSES, Generation, Status
from queue_tui.core.outcomes import EventsState, LifecycleWatcher
from queue_tui.core.resubmit import Resubmitter
from queue_tui.core.stats import QueueStats, compute_stats, error_headline, fmt_eta
from queue_tui.core.status import NEEDS_USER, Link, StatusState, retry_phrase
from queue_tui.core.timefmt import DASH, fmt_coarse
from queue_tui.core.tracker import UNKNOWN_STATUS, EventKind, LifecycleEvent, RowState, Tracker
from queue_tui.sanitize import clean, first_line, safe_url

if TYPE_CHECKING:
    from queue_tui.api.client import QueueClient
    from queue_tui.api.filters import QueueFilters
    from queue_tui.config import Settings
    from queue_tui.core.poller import Poller, PollFailed, Snapshot

#: Individual failure toasts per batch of events; more become one summary toast.
TOASTS_PER_BATCH = 3
#: Lifecycle events kept in `announced` (for tests and tools), newest last: a day of
#: events would be tens of thousands of rows kept alive.
ANNOUNCED_KEPT = 500
#: Events waiting for the next `announce`, at most (the newest, and every watched row's):
#: paused (the screen holds still) for a night, the dashboard must not keep them all.
UNANNOUNCED_KEPT = 5000
FAILURE_TIMEOUT = 8.0
WATCHED_TIMEOUT = 20.0
#: Characters of why an outcome is unknown, in the detail pane.
REASON_MAX = 300
SUCCESS_TIMEOUT = 5.0
#: The configuration's warnings told in the start-up toast (the rest are counted), and
#: how long it stays.
CONFIG_WARNINGS_SHOWN = 3
CONFIG_WARNING_TIMEOUT = 15.0
SHORT_ID = 8

#: Row states as the table shows them (see `RowMark`).
ACTIVE, PENDING, DONE = "", "pending", "done"


class RowMark(NamedTuple):
    """What the table shows of a row beyond its Generation (a plain tuple: cheap to
    compare, so the keyed diff skips unchanged rows as fast as before).

    - `state`: ACTIVE; PENDING (left the queue, outcome not known yet: "… finishing");
      DONE (finished and lingering: dimmed)
    - `watched`: "★" takes the status glyph's place
    - `eta`: the ETA cell's text (`fmt_eta`; "" for finished rows)
    - `marked`: the user marked it (`space`) for an action on many rows
    """

    state: str = ACTIVE
    watched: bool = False
    eta: str = DASH
    marked: bool = False


DEFAULT_MARK = RowMark()

#: What a cell or a detail line shows for a field the hub sent with a value of the wrong
#: type ("—" means the hub did not send it).
BAD_VALUE = "?"
#: The value `parse_generation` leaves in a field it could not read (None for the rest).
_UNSET: dict[str, object] = {
    "model_name": "unknown",
    "media_type": "unknown",
    "status": "in_progress",
}
_NO_BAD: frozenset[str] = frozenset()
#: The fields the ETA comes from (the queue position, the model's recent throughput, how
#: long it has run).
ETA_FIELDS = frozenset({"status", "model_name", "enqueued_at", "started_at"})


def bad_fields(gen: Generation) -> frozenset[str]:
    """The fields the hub sent with a value of the wrong type (`invalid_fields`) that
    nothing has filled in since: an outcome learnt elsewhere sets the status and the
    completion time, and then they are known again."""
    invalid = gen.invalid_fields
    if not invalid:
        return _NO_BAD
    return frozenset(n for n in invalid if getattr(gen, n, None) == _UNSET.get(n))


def short_eta(seconds: float | None) -> str:
    """An ETA in at most 4 characters: `<1m`, `~4m`, `~95m`, `~2h`, `~3d`; a dash when
    there is no estimate."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    minutes = round(seconds / 60)
    if seconds < 60 or minutes < 1:
        return "<1m"
    if minutes < 100:
        return f"~{minutes}m"
    hours = round(minutes / 60)
    if hours < 48:
        return f"~{hours}h"
    return f"~{min(99, round(hours / 24))}d"


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


def toast_policy(size: tuple[int, int]) -> ToastPolicy:
    """The policy for a terminal of `size` (columns, lines)."""
    narrow, short = COMPACT_TOASTS_BELOW
    return COMPACT_TOASTS if size[0] < narrow or size[1] < short else ROOMY_TOASTS


class ToastGate:
    """At most one toast per kind per `gap` seconds (plain bookkeeping).

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


@dataclass(frozen=True)
class Toast:
    """One notification to show (plain text: never parsed as markup)."""

    message: str
    title: str = ""
    #: "information", "warning" or "error".
    severity: str = "information"
    timeout: float | None = None
    #: Ring the terminal bell after it (`--bell`, a failure); with no message, the
    #: bell alone.
    bell: bool = False


@dataclass(frozen=True)
class RowsView:
    """What the table shows, as of one render."""

    #: Every row before client-side filtering: active and pending rows and the
    #: finished ones that linger (the status bar's total).
    rows: list[Generation]
    #: The rows to show: `rows` less hidden finished ones (`h`) and the client filters.
    visible: list[Generation]
    #: Marks of the rows whose `RowMark` is not `DEFAULT_MARK`.
    marks: dict[str, RowMark]
    #: Rows per status for the status bar ("finishing" for rows that left the queue).
    counts: Counter[str]
    #: Marked rows among `visible` (the others are hidden by the filters or `h`).
    marked_shown: int = 0


SOURCE_NAMES = {
    "poll": "the queue listing",
    "events": "the event stream",
    "status-query": "a status query",
    "get": "a lookup",
    "get-404": "a lookup (no longer queued)",
    "history": "the history",
    "history-404": "the history (not there)",
}


def short_id(gid: str) -> str:
    return clean(gid)[:SHORT_ID]


class DashboardModel:
    """Tracker, watcher, stats and every toast decision of the dashboard.

    Attributes for the app, tests and tools: `tracker`, `watcher`, `stats` (QueueStats
    of the last poll), `filters` (in effect), `show_finished`, `announced` (the last
    `ANNOUNCED_KEPT` lifecycle events announced, newest last), `toast_gate`.
    """

    def __init__(self, settings: Settings, client: QueueClient, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self.client = client
        self.filters: QueueFilters = settings.filters
        self.tracker = Tracker(linger=settings.linger, clock=clock)
        # The watcher paces its resolution rounds on the app's clock (not a monotonic
        # one): on a frozen or replayed clock, rounds follow that clock's polls.
        self.watcher = LifecycleWatcher(
            client,
            self.tracker,
            settings.interval,
            clock=clock,
            monotonic=clock,
            backfill=True,
            resolve_limit=settings.resolve_limit,
        )
        self.stats: QueueStats | None = None
        #: Finished rows that linger are shown (`h` toggles).
        self.show_finished = True
        self.announced: list[LifecycleEvent] = []
        self.toast_gate = ToastGate()
        self._unannounced: list[LifecycleEvent] = []
        #: Rows with news since the table last showed the rows (`rows`): while paused the
        #: screen holds still and the status bar counts them.
        self._unshown: set[str] = set()
        self._observed_key: tuple[Any, ...] | None = None
        self._next_expiry = math.inf
        self._pending_shown: list[str] = []
        self._failure_toasted = False
        #: What the polls taught about the hub (the status bar's source).
        self.link = Link()
        #: The rows as of the last `rows` call (the status bar's counts between renders).
        self.view = RowsView([], [], {}, Counter())
        #: Rows the user marked (`space`, `*`) for an action on many rows, by id, in the
        #: order marked. A mark outlives polls, sorting and filtering; it goes with its
        #: row (`rows`: a row no longer shown, even under `h` or a filter).
        self.marked: dict[str, None] = {}
        #: This session's resubmits: old id -> the new ids, and new id -> the old one.
        self.resubmitted_as: dict[str, tuple[str, ...]] = {}
        self.resubmitted_from: dict[str, str] = {}
        #: Rows with a cancel or a resubmit in flight (a second action leaves them out).
        self.acting_on: set[str] = set()
        self._resubmitter: Resubmitter | None = None

    @property
    def resubmitter(self) -> Resubmitter:
        """One for the session: it remembers whether the hub has the retry endpoint."""
        if self._resubmitter is None:
            self._resubmitter = Resubmitter(self.client)
        return self._resubmitter

    @property
    def events_state(self) -> EventsState:
        return self.watcher.events_state

    # -- feeding the tracker (poll worker and event stream worker) -----------------------

    def observe_snapshot(self, snapshot: Snapshot) -> None:
        """In the poll worker: observe the page (no requests); the page is shown next,
        then `follow_up` resolves what vanished."""
        quiet = self._note_filters(snapshot)
        self.queue_events(self.watcher.observe_snapshot(snapshot, self.clock()), quiet)

    async def follow_up(self, snapshot: Snapshot) -> tuple[bool, bool]:
        """In the poll worker, after the page was shown: the history backfill (first
        page of a view) and resolving vanished rows over HTTP, so a slow hub never holds
        the page back. Returns (news to show, the history grew)."""
        events, added = await self.watcher.follow_up(snapshot.result.filters)
        self.queue_events(events)
        return bool(events or added), added > 0

    def _note_filters(self, snapshot: Snapshot) -> bool:
        """True for the first page of a view: rows it lists as already finished are old
        news (a `--status failed` view), not something that just happened."""
        key = snapshot.result.filters.server_key()
        quiet = key != self._observed_key
        self._observed_key = key
        return quiet

    def queue_events(self, events: Iterable[LifecycleEvent], quiet: bool = False) -> None:
        """Events to tell at the next `announce`."""
        for event in events:
            if quiet and event.is_final and event.source == "poll":
                continue
            self._unannounced.append(event)
            if len(self._unshown) < UNANNOUNCED_KEPT:
                self._unshown.add(event.generation_id)
        excess = len(self._unannounced) - UNANNOUNCED_KEPT
        if excess > 0:
            watched = self.tracker.watched
            self._unannounced = [
                e
                for i, e in enumerate(self._unannounced)
                if i >= excess or e.generation_id in watched
            ]

    @property
    def has_news(self) -> bool:
        return bool(self._unannounced)

    @property
    def changes_waiting(self) -> int:
        """Rows with news the table does not show yet (while paused)."""
        return len(self._unshown)

    # -- what the table shows --------------------------------------------------------------

    def refresh_stats(self, now: float) -> QueueStats:
        """Once per poll (and after a filter change): stats and ETAs."""
        filters = self.filters if self.filters.active() else None
        self.stats = compute_stats(self.tracker, now, filters=filters)
        return self.stats

    def rows(self, now: float) -> RowsView:
        """The rows to show, their marks and counts.

        Active and pending rows always; finished ones while they linger (or while the
        hub still lists them, under a terminal status filter). `h` hides the lingering
        ones later, like a filter (they still count in the status bar's total).
        """
        self._unshown.clear()
        tracker = self.tracker
        linger = tracker.linger
        etas = self.stats.etas if self.stats is not None else {}
        watched = tracker.watched
        marked = self.marked
        marked_seen = 0
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
                if gen.invalid_fields and bad_fields(gen) & ETA_FIELDS:
                    eta = BAD_VALUE  # worked out from a field the hub garbled
            is_watched = gid in watched
            is_marked = gid in marked
            if mark_state or is_watched or eta != DASH or is_marked:
                # Equal marks are one shared tuple: no new object per row and per poll.
                key = (mark_state, is_watched, eta, is_marked)
                mark = shared.get(key)
                if mark is None:
                    mark = shared[key] = RowMark(mark_state, is_watched, eta, is_marked)
                marks[gid] = mark
                marked_seen += is_marked
                if mark_state == PENDING:
                    pending_shown.append(gid)
            rows.append(gen)
        self._next_expiry = next_expiry
        self._pending_shown = pending_shown
        visible: list[Generation] = rows
        if not self.show_finished:
            visible = [g for g in visible if marks.get(g.generation_id, DEFAULT_MARK).state != DONE]
        if self.filters.active():
            visible = [g for g in visible if self.filters.matches(g)]
        if marked_seen != len(marked):
            # Rows gone (finished and forgotten, dismissed): their marks go with them.
            shown = {g.generation_id for g in rows}
            self.marked = {gid: None for gid in marked if gid in shown}
        self.view = RowsView(
            rows, visible, marks, self._status_counts(rows), self._marked_among(visible)
        )
        return self.view

    # -- marked rows (space, *, U) -----------------------------------------------------------

    def toggle_mark(self, gid: str) -> bool:
        """Mark a row, or unmark a marked one; returns whether it is marked now."""
        if gid in self.marked:
            del self.marked[gid]
            return False
        self.marked[gid] = None
        return True

    def mark_shown(self) -> int:
        """Mark every row the filters show (as of the last `rows`); returns how many
        were not marked yet."""
        before = len(self.marked)
        for g in self.view.visible:
            self.marked.setdefault(g.generation_id, None)
        return len(self.marked) - before

    def clear_marks(self, gids: Iterable[str] | None = None) -> int:
        """Unmark these rows (None: every row); returns how many marks went."""
        if gids is None:
            n = len(self.marked)
            self.marked = {}
            return n
        marked = self.marked
        gone = [gid for gid in gids if gid in marked]
        for gid in gone:
            del marked[gid]
        return len(gone)

    def marked_rows(self) -> list[Generation]:
        """The marked rows as of the last `rows`, in the order they are listed there."""
        marked = self.marked
        if not marked:
            return []
        return [g for g in self.view.rows if g.generation_id in marked]

    def remarked(self) -> RowsView:
        """The last view with the marks as they are now, and nothing else new: a mark
        shows at once and moves no row (and while paused the screen holds still)."""
        view, marked, shared = self.view, self.marked, _MARKS
        marks = dict(view.marks)
        for gid in {gid for gid, m in marks.items() if m.marked} | marked.keys():
            old = marks.get(gid, DEFAULT_MARK)
            want = gid in marked
            if old.marked == want:
                continue
            key = (old.state, old.watched, old.eta, want)
            mark = shared.get(key)
            if mark is None:
                mark = shared[key] = RowMark(*key)
            if mark == DEFAULT_MARK:
                marks.pop(gid, None)
            else:
                marks[gid] = mark
        self.view = RowsView(
            view.rows, view.visible, marks, view.counts, self._marked_among(view.visible)
        )
        return self.view

    def _marked_among(self, rows: list[Generation]) -> int:
        marked = self.marked
        return sum(g.generation_id in marked for g in rows) if marked else 0

    # -- resubmits ---------------------------------------------------------------------------

    def note_resubmitted(self, old_id: str, new_ids: Iterable[str]) -> None:
        """A generation was resubmitted as `new_ids`: each detail pane links to the other,
        and the new ones are watched (★) so their outcome is told."""
        new = tuple(new_ids)
        self.resubmitted_as[old_id] = self.resubmitted_as.get(old_id, ()) + new
        for gid in new:
            self.resubmitted_from[gid] = old_id
            self.tracker.watch(gid)

    def retried_from(self, gen: Generation) -> str | None:
        """The generation this one was resubmitted from: by this session, else as the hub
        says (`retried_from_id`, from a hub with the retry endpoint)."""
        old = self.resubmitted_from.get(gen.generation_id)
        if old is not None:
            return old
        value = (gen.model_extra or {}).get("retried_from_id")
        return value if isinstance(value, str) and value.strip() else None

    def _status_counts(self, rows: list[Generation]) -> Counter[str]:
        """Rows per status for the status bar; rows that left the queue count as
        "finishing", not as the status they last had."""
        counts = Counter(map(_STATUS, rows))
        shown = self._pending_shown
        if counts.get(_IN_PROGRESS):
            # A status of the wrong type is left "in_progress": counted as the `?` it shows
            # (or as finishing, below, once it left the queue).
            pending = set(shown)
            bad = sum(
                1
                for g in rows
                if g.invalid_fields
                and g.status == _IN_PROGRESS
                and "status" in bad_fields(g)
                and g.generation_id not in pending
            )
            if bad:
                counts[_IN_PROGRESS] -= bad
                counts[BAD_STATUS] = bad
                counts += Counter()  # drop a zero
        if shown:
            tracker = self.tracker
            for gid in shown:
                t = tracker.get(gid)
                if t is not None and counts[t.generation.status] > 0:
                    counts[t.generation.status] -= 1
                    counts["finishing"] += 1
            counts += Counter()  # drop the zeros
        return counts

    def empty_message(self, state: StatusState) -> str:
        """Why the table is empty (the detail pane says it): the fault the status bar
        shows (the same `state`, so never an older one) and what is done about it."""
        if self.link.polls == 0:
            if state.error is not None and self.link.advice is not None:
                return f"Cannot load the queue: {self.link.advice}\n\n{retry_phrase(state)}"
            return "Waiting for the first page from the hub…"
        if not self.view.rows:
            if self.filters.status:
                return f"No {self.filters.status} generations."
            return "The queue is empty: nothing is queued or processing."
        return "No generations match the filters (F clears them)."

    def status_state(self, poller: Poller, monotonic: float, shown: int) -> StatusState:
        """The status bar's state now: the link, the poller (`monotonic` is its clock)
        and the rows (`shown` of them pass the filters)."""
        link, now = self.link, self.clock()
        failure, sent = link.failure, poller.in_flight_since
        return StatusState(
            host=self.settings.display_host,
            via_relay=self.client.via_relay,
            relay_upstream=self.client.relay_upstream,
            paused=poller.paused,
            waiting=self.changes_waiting if poller.paused else 0,
            error=link.error,
            error_kind=None if failure is None else failure.error.kind,
            retry_in=None
            if failure is None or failure.stopped
            else max(0.0, failure.next_try_at - monotonic),
            stopped=failure is not None and failure.stopped,
            in_flight=poller.in_flight,
            in_flight_for=None if sent is None else max(0.0, monotonic - sent),
            since_ok=None if link.last_ok_at is None else max(0.0, now - link.last_ok_at),
            interval=poller.interval,
            latency=link.latency,
            counts=self.view.counts,
            marked=len(self.marked),
            marked_hidden=max(0, len(self.marked) - self.view.marked_shown),
            shown=shown,
            total=len(self.view.rows),
            dropped=link.dropped,
            degraded=link.degraded,
            filters=self.filters.describe(),
            polls=link.polls,
            events=self.events_state.value,
        )

    def tick(self, now: float, size: tuple[int, int]) -> tuple[bool, list[Toast]]:
        """Every second: (a lingering row just ran out: render again, the toasts held
        back whose gap has run out, even if no poll brings news)."""
        toasts = self._tell([], [], now, toast_policy(size)) if self.toast_gate.holding() else []
        return now > self._next_expiry, toasts

    # -- toasts ------------------------------------------------------------------------------

    def announce(self, now: float, size: tuple[int, int]) -> list[Toast]:
        """Toasts (and the bell) for the events gathered since the last call, and for
        those held back (`toast_gate`) whose gap has run out."""
        events, self._unannounced = self._unannounced, []
        if not events and not self.toast_gate.holding():
            return []
        self.announced.extend(events)
        del self.announced[:-ANNOUNCED_KEPT]
        watched = self.tracker.watched
        failures: list[LifecycleEvent] = []
        successes: list[LifecycleEvent] = []
        toasts: list[Toast] = []
        rang = False
        for event in events:
            if not event.is_final or event.source == "cancel":
                continue  # a cancel from here has its own toast
            if event.generation_id in watched:
                # Asked for by the user: told at once, and not counted against the gap.
                toasts.append(_watched_toast(event))
                rang = rang or event.kind is EventKind.FAILED
                continue
            if not self.filters.matches(event.generation):
                continue  # the user narrowed the view: not news about what they watch
            if event.kind is EventKind.FAILED:
                failures.append(event)
            elif event.kind is EventKind.SUCCEEDED and self.settings.notify_success:
                successes.append(event)
        return toasts + self._tell(failures, successes, now, toast_policy(size), rang=rang)

    def _tell(
        self,
        failures: list[LifecycleEvent],
        successes: list[LifecycleEvent],
        now: float,
        policy: ToastPolicy,
        *,
        rang: bool = False,
    ) -> list[Toast]:
        """Failure and success toasts through the gate; the bell with a failure toast
        (`rang`: a watched generation failed)."""
        failed = self._gated("failed", failures, now, policy)
        toasts = failed + self._gated("succeeded", successes, now, policy)
        if self.settings.bell and (rang or failed):
            toasts.append(Toast("", bell=True))
        return toasts

    def _gated(
        self, kind: str, events: list[LifecycleEvent], now: float, policy: ToastPolicy
    ) -> list[Toast]:
        """Toasts for `events` of one kind, or none while the kind's gap runs (a held
        event is told with the next toast of its kind: "3 more generations failed")."""
        gate = self.toast_gate
        batch, held = gate.admit(kind, events, now, policy.gap)
        if held:
            # Held while the user may have narrowed the view: only what it shows is news.
            matches = self.filters.matches
            kept = [e for e in batch[:held] if matches(e.generation)]
            batch, held = kept + batch[held:], len(kept)
        if not batch:
            return []
        gate.told(kind, now)
        # Events held back are folded into one summary, however few.
        per_batch = 1 if held else policy.per_batch
        if kind == "failed":
            error_len = policy.error_len
            return _batch_toasts(
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
        return _batch_toasts(
            batch,
            "succeeded",
            _url,
            severity="information",
            timeout=policy.success_timeout,
            per_batch=per_batch,
            more=held > 0,
        )

    def page_shown(self, snapshot: Snapshot) -> list[Toast]:
        """A page is shown: the link learns it; "Connected again" after an outage that
        was toasted."""
        self.link.page(snapshot, self.clock())
        was_failing, self._failure_toasted = self._failure_toasted, False
        return [Toast("Connected again", timeout=3)] if was_failing else []

    def page_failed(self, failure: PollFailed) -> list[Toast]:
        """A poll failed: the link learns it. A one-off blip only shows in the status
        bar; a second failure in a row is worth a toast (once per outage), and so is
        recovering from it. A fault only the user can fix (a refused token, a wrong
        host) is toasted at once."""
        self.link.failed(failure, self.settings.token_help)
        needs_user = failure.error.kind in NEEDS_USER
        if (failure.attempt < 2 and not needs_user) or self._failure_toasted:
            return []
        self._failure_toasted = True
        advice = first_line(self.link.advice, max_len=300)
        return [Toast(advice, title="Poll failed", severity="error", timeout=6)]

    def config_warnings(self) -> list[Toast]:
        """The configuration's warnings (an unknown key...), in one toast at start."""
        warnings = self.settings.warnings
        if not warnings:
            return []
        home = str(Path.home()) + os.sep
        lines = [
            clean("~" + os.sep + w[len(home) :] if w.startswith(home) else w, max_len=200)
            for w in warnings[:CONFIG_WARNINGS_SHOWN]
        ]
        more = len(warnings) - CONFIG_WARNINGS_SHOWN
        if more > 0:
            lines.append(f"… and {more} more (queue-tui list prints them all)")
        title = "Config warning" if len(warnings) == 1 else "Config warnings"
        return [Toast("\n".join(lines), title, "warning", CONFIG_WARNING_TIMEOUT)]

    # -- the detail pane ---------------------------------------------------------------------

    def detail_notes(self, gen: Generation) -> tuple[tuple[str, str], ...]:
        """Lines the detail pane adds under the status: watched, outcome, linger, ETA."""
        gid = gen.generation_id
        tracker = self.tracker
        notes: list[tuple[str, str]] = []
        t = tracker.get(gid)
        new_ids = self.resubmitted_as.get(gid)
        if new_ids:
            shown = clean(new_ids[0]) if len(new_ids) == 1 else ", ".join(map(short_id, new_ids))
            notes.append(("resubmitted", f"as {shown}"))
        old_id = self.retried_from(gen)
        if old_id is not None:
            notes.append(("resubmitted", f"from {clean(old_id, max_len=80)}"))
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
                reason = t.unknown_reason
                if reason:
                    notes.append(("outcome", f"unknown: {clean(reason, max_len=REASON_MAX)}"))
                else:
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
            if bad_fields(gen) & ETA_FIELDS:
                notes.append(("eta", f"{BAD_VALUE} (the hub sent a field of the wrong type)"))
            elif eta is not None:
                notes.append(("eta", f"{fmt_eta(eta)} until done (recent throughput)"))
            elif gen.status in ("queued", "processing"):
                notes.append(("eta", f"{DASH} (too few recent completions of this model)"))
        return tuple(notes)

    def is_finished(self, gid: str) -> bool:
        t = self.tracker.get(gid)
        return t is not None and t.state is RowState.FINISHED


_STATUS = attrgetter("status")
_IN_PROGRESS = Status.IN_PROGRESS.value
#: The status bar's count of rows whose status had the wrong type (shown `?`).
BAD_STATUS = "bad status"
#: Every distinct `RowMark` made so far (at most states x watched x ETA texts x marked:
#: ~2,400).
_MARKS: dict[tuple[str, bool, str, bool], RowMark] = {}
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


def model_name(gen: Generation) -> str:
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
    counts = Counter(model_name(e.generation) for e in events)
    return ", ".join(f"{name} ×{n}" for name, n in counts.most_common(3)) + (
        ", …" if len(counts) > 3 else ""
    )


def _batch_toasts(
    events: list[LifecycleEvent],
    outcome: str,
    detail: Callable[[Generation], str],
    *,
    severity: str,
    timeout: float,
    per_batch: int = TOASTS_PER_BATCH,
    more: bool = False,
    common: str = "",
    hint: str = "",
) -> list[Toast]:
    """One toast per event, or a single summary when there are many."""
    if len(events) > per_batch:
        count = f"{len(events)} more" if more else str(len(events))
        message = f"{count} generations {outcome}: {_by_model(events)}{common}{hint}"
        return [Toast(message, f"Generations {outcome}", severity, timeout)]
    title = f"Generation {outcome}"
    gens = [e.generation for e in events]
    return [
        Toast(
            f"{model_name(g)} · {short_id(g.generation_id)}: {detail(g)}", title, severity, timeout
        )
        for g in gens
    ]


def _watched_toast(event: LifecycleEvent) -> Toast:
    gen = event.generation
    head = f"★ {model_name(gen)} · {short_id(gen.generation_id)}"
    kind = event.kind
    if kind is EventKind.SUCCEEDED:
        message, severity = f"{head} succeeded: {_url(gen)}", "information"
    elif kind is EventKind.FAILED:
        message, severity = f"{head} failed: {_error(gen)}", "error"
    elif kind is EventKind.CANCELLED:
        message, severity = f"{head} was cancelled", "warning"
    elif event.reason:
        message = f"{head} finished, outcome unknown: {clean(event.reason, max_len=120)}"
        severity = "warning"
    else:
        message, severity = f"{head} finished; the hub did not say how", "warning"
    return Toast(message, "Watched generation finished", severity, WATCHED_TIMEOUT)
