"""The lifecycle tracker: every generation seen, keyed by id, and the events between polls.

Headless (no Textual): the dashboard, `queue-tui events` and `queue-tui wait` all feed
the same `Tracker`, so they can never disagree about what happened.

Polls of the *active* view are the source of truth for what is still in flight. A row
that leaves the view has finished, but the poll cannot say how: it becomes *pending*
("vanished") until another source resolves it (the event stream, the terminal
`status=` queries, or `GET /api/ai/queue/{id}` answering 404); see
`queue_tui.core.outcomes`. Finished rows linger for `linger` seconds with their final
status, completion time and result URL or error, then are forgotten; a bounded history
of finished rows stays behind for the statistics.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import TERMINAL_STATUSES, Generation, Status, parse_generation
from queue_tui.core.timefmt import fmt_local
from queue_tui.sanitize import clean, error_headline, safe_url

#: What a finished row whose outcome nobody could tell carries as its status.
UNKNOWN_STATUS = "unknown"
#: Every source an outcome (or a sighting) can come from.
SOURCES = (
    "poll",
    "events",
    "status-query",
    "get",
    "get-404",
    "history",
    "history-404",
    "cancel",
    "limit",
)
#: How far back the statistics look (seconds; `core.stats.WINDOW`): a finished row
#: older than this counts in no figure, so the history keeps none (an all-day run).
STATS_WINDOW = 1800.0
#: Depth samples are kept this long (seconds) for the sparkline.
DEPTH_WINDOW = STATS_WINDOW
#: At most this many finished rows in the history, however busy the window.
HISTORY_CAP = 5000
_DEPTH_MAX_SAMPLES = 20_000


class EventKind(StrEnum):
    APPEARED = "appeared"
    STARTED = "started"
    #: Left the active view; its outcome is not known yet.
    VANISHED = "vanished"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: Finished, outcome unknown (no source could tell).
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in FINAL_KINDS

    @property
    def order(self) -> int:
        """Position in a generation's lifecycle: appeared < started < vanished < final."""
        return _ORDER[self]


FINAL_KINDS = frozenset(
    {EventKind.SUCCEEDED, EventKind.FAILED, EventKind.CANCELLED, EventKind.UNKNOWN}
)
_ORDER = {
    EventKind.APPEARED: 0,
    EventKind.STARTED: 1,
    EventKind.VANISHED: 2,
    EventKind.SUCCEEDED: 3,
    EventKind.FAILED: 3,
    EventKind.CANCELLED: 3,
    EventKind.UNKNOWN: 3,
}
#: A terminal status is the final event of the same name.
_FINAL_BY_STATUS = {s: EventKind(s) for s in TERMINAL_STATUSES} | {
    UNKNOWN_STATUS: EventKind.UNKNOWN
}


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    kind: EventKind
    generation_id: str
    #: When it was observed (the tracker's clock, unix seconds).
    at: float
    #: The row as known right after the event (final status, result URL or error...).
    generation: Generation
    #: "poll" | "events" | "status-query" | "get" | "get-404" | "cancel" | "limit"
    source: str = "poll"
    #: Why an outcome is unknown (the evidence, or the sources that kept failing).
    reason: str | None = None

    @property
    def is_final(self) -> bool:
        return self.kind.is_final

    def to_dict(self) -> dict[str, Any]:
        gen = self.generation
        return {
            "event": self.kind.value,
            "at": self.at,
            "time": _iso(self.at),
            "generation_id": self.generation_id,
            "model_name": gen.model_name,
            "media_type": gen.media_type,
            "status": gen.status,
            "result_url": gen.result_url,
            "error": gen.error_message,
            "source": self.source,
            "reason": self.reason,
            "generation": gen.to_api(),
        }

    def to_json(self) -> str:
        """One JSON line (ASCII only: hub text cannot smuggle controls into a log)."""
        return json.dumps(self.to_dict(), ensure_ascii=True, default=str)

    def format_line(self) -> str:
        """One human line: time, event, id, model, media, then result URL or error."""
        gen = self.generation
        parts = [
            fmt_local(self.at),
            self.kind.value.ljust(9),
            clean(self.generation_id, max_len=80),
            clean(gen.model_name, max_len=40),
            clean(gen.media_type, max_len=10),
        ]
        detail = self.detail()
        if detail:
            parts.append(detail)
        return "  ".join(parts)

    def detail(self) -> str:
        gen = self.generation
        kind = self.kind
        if kind is EventKind.SUCCEEDED:
            url = gen.result_url
            return (safe_url(url) or clean(url, max_len=300)) if url else "(no result URL)"
        if kind is EventKind.FAILED:
            return f"error: {error_headline(gen.error_message, max_len=300) or '(no message)'}"
        if kind is EventKind.CANCELLED:
            return "(cancelled here)" if self.source == "cancel" else ""
        if kind is EventKind.UNKNOWN:
            return (
                f"finished, outcome unknown: {self.reason}"
                if self.reason
                else ("finished, outcome unknown")
            )
        if kind is EventKind.VANISHED:
            return "left the queue, outcome pending"
        if kind is EventKind.APPEARED:
            return clean(gen.status, max_len=20)
        return ""


def _iso(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return ""


class RowState(StrEnum):
    ACTIVE = "active"
    #: Vanished from the active view, outcome not resolved yet.
    PENDING = "pending"
    FINISHED = "finished"


@dataclass(slots=True)
class Tracked:
    """What the tracker knows of one generation."""

    generation: Generation
    state: RowState
    first_seen: float
    last_seen: float
    #: Listed by the latest poll.
    in_view: bool = False
    vanished_at: float | None = None
    #: When the outcome became known (tracker clock); drives the linger.
    finished_at: float | None = None
    outcome_source: str | None = None
    #: Resolution rounds this row has been through while pending (see outcomes.py).
    resolve_rounds: int = 0
    #: Cancelled by this app (DELETE answered 200).
    cancelled_here: bool = False
    #: Why the outcome is unknown (status "unknown" only), for the detail pane.
    unknown_reason: str | None = None

    @property
    def generation_id(self) -> str:
        return self.generation.generation_id


@dataclass(frozen=True, slots=True)
class DepthSample:
    """Queue depth at one poll: totals and queued rows per model."""

    at: float
    queued: int
    processing: int
    by_model: Mapping[str, int] = field(default_factory=dict)


class Tracker:
    """Keyed store of generations; turns successive polls into `LifecycleEvent`s.

    All methods take an optional `now` (unix seconds); by default `clock()`.
    """

    def __init__(
        self,
        linger: float = 600.0,
        history_cap: int = HISTORY_CAP,
        clock: Callable[[], float] = time.time,
        *,
        depth_window: float = DEPTH_WINDOW,
        history_window: float = STATS_WINDOW,
    ) -> None:
        self.linger = float(linger)
        self.history_cap = max(1, int(history_cap))
        self.clock = clock
        self.depth_window = float(depth_window)
        self.history_window = float(history_window)
        self._rows: dict[str, Tracked] = {}
        self._history: OrderedDict[str, Generation] = OrderedDict()
        self._finished_order: OrderedDict[str, None] = OrderedDict()
        self._dismissed: OrderedDict[str, None] = OrderedDict()
        self._watched: set[str] = set()
        self._depth: deque[DepthSample] = deque(maxlen=_DEPTH_MAX_SAMPLES)
        self._filters_key: tuple[str | None, ...] | None = None
        #: Tracker time of the first poll: statistics only cover what came after it.
        self.started_at: float | None = None
        #: Earliest completion among rows seeded by `add_history` (the hub's own
        #: timestamps), so statistics cover that far back from the first minute.
        self.history_since: float | None = None
        self.polls = 0

    # -- reading ----------------------------------------------------------------------

    def __contains__(self, generation_id: object) -> bool:
        return generation_id in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, generation_id: str) -> Tracked | None:
        return self._rows.get(generation_id)

    def tracked(self) -> Iterator[Tracked]:
        return iter(list(self._rows.values()))

    def active_rows(self) -> list[Generation]:
        """Rows still in flight as far as the polls know (pending ones excluded)."""
        return [t.generation for t in self._rows.values() if t.state is RowState.ACTIVE]

    def pending_ids(self) -> list[str]:
        """Rows that vanished from the active view and whose outcome is not known yet."""
        return [gid for gid, t in self._rows.items() if t.state is RowState.PENDING]

    def is_pending(self, generation_id: str) -> bool:
        t = self._rows.get(generation_id)
        return t is not None and t.state is RowState.PENDING

    @property
    def history(self) -> list[Generation]:
        """Finished rows, oldest outcome first: those completed within `history_window`
        (as of the last poll), at most `history_cap`."""
        return list(self._history.values())

    @property
    def depth_history(self) -> list[DepthSample]:
        return list(self._depth)

    # -- watching ------------------------------------------------------------------------

    def watch(self, generation_id: str) -> None:
        """Follow this id even before it is listed (and keep it after it finishes)."""
        self._watched.add(generation_id)

    def unwatch(self, generation_id: str) -> None:
        self._watched.discard(generation_id)

    @property
    def watched(self) -> frozenset[str]:
        return frozenset(self._watched)

    def unseen_watched(self) -> list[str]:
        """Watched ids no source has reported yet."""
        return sorted(gid for gid in self._watched if gid not in self._rows)

    # -- polls -----------------------------------------------------------------------

    def observe(
        self,
        rows: Iterable[Generation],
        now: float | None = None,
        *,
        filters: QueueFilters | None = None,
    ) -> list[LifecycleEvent]:
        """One poll of the view `filters` describes (default: the active view).

        Listed rows appear, start or finish; tracked active rows that are missing
        vanish (pending resolution). When the server-side filters changed since the
        last poll, a missing row that the new filters exclude is out of view, not
        finished: it is forgotten (or, if watched, kept pending without an event).
        """
        now = self._now(now)
        filters = filters or QueueFilters()
        key = filters.server_key()
        filters_changed = self._filters_key is not None and key != self._filters_key
        self._filters_key = key
        if self.started_at is None:
            self.started_at = now
        if filters_changed:
            self._depth.clear()
        self.polls += 1
        events: list[LifecycleEvent] = []
        seen: set[str] = set()
        known = self._rows
        active, pending, finished = RowState.ACTIVE, RowState.PENDING, RowState.FINISHED
        # The depth sample is counted on the way (every row left ACTIVE by this poll is
        # one it lists: the loop below turns every unlisted ACTIVE row PENDING).
        queued = processing = 0
        by_model: dict[str, int] = {}
        for gen in rows:
            gid = gen.generation_id
            if gid in seen:
                continue
            seen.add(gid)
            t = known.get(gid)
            status = gen.status
            if t is not None and t.state is not finished and status not in TERMINAL_STATUSES:
                # The common case, inlined: a row in flight listed again (what
                # `_sighting` does for it; a dismissed id is never in `_rows`).
                t.in_view = True
                t.last_seen = now
                old = t.generation
                t.generation = gen
                if t.state is pending:
                    t.state = active
                    t.vanished_at = None
                    t.resolve_rounds = 0
                if status == _PROCESSING and old.started_at is None and old.status != _PROCESSING:
                    events.append(LifecycleEvent(EventKind.STARTED, gid, now, gen, "poll"))
            else:
                events.extend(self._sighting(gen, now, source="poll", in_view=True))
                t = known.get(gid)
                if t is None or t.state is not active:
                    continue
            if status == _PROCESSING:
                processing += 1
            elif status in _QUEUED_LIKE:
                queued += 1
                model = gen.model_name
                by_model[model] = by_model.get(model, 0) + 1
        server_filters = filters.with_(search=None)
        unseen = known.keys() - seen
        for gid in [gid for gid in known if gid in unseen] if unseen else ():
            t = known[gid]
            t.in_view = False
            if t.state is finished:
                continue
            if filters_changed and not server_filters.matches(t.generation):
                if gid in self._watched:
                    t.state = pending
                    t.vanished_at = t.vanished_at or now
                else:
                    del known[gid]
                continue
            if t.state is not active:
                continue
            t.state = pending
            t.vanished_at = now
            t.resolve_rounds = 0
            events.append(self._event(EventKind.VANISHED, t, now, "poll"))
        if filters.status is None or filters.status not in TERMINAL_STATUSES:
            self._depth.append(DepthSample(now, queued, processing, by_model))
        self.expire(now)
        return events

    def observe_row(
        self, gen: Generation, now: float | None = None, *, source: str = "get"
    ) -> list[LifecycleEvent]:
        """One row from outside the poll (e.g. `GET /api/ai/queue/{id}` answering 200).

        It updates what is known without changing what is in view: a pending row
        stays pending until a poll lists it again.
        """
        now = self._now(now)
        if gen.is_terminal:
            return self.apply_outcome(
                gen.generation_id, gen.status, now, source=source, generation=gen
            )
        return self._sighting(gen, now, source=source, in_view=False)

    def _sighting(
        self, gen: Generation, now: float, *, source: str, in_view: bool
    ) -> list[LifecycleEvent]:
        gid = gen.generation_id
        if gid in self._dismissed:
            return []
        t = self._rows.get(gid)
        if t is None:
            if gen.is_terminal:
                t = Tracked(gen, RowState.ACTIVE, now, now, in_view=in_view)
                self._rows[gid] = t
                return self._finish(t, gen, now, source)
            t = Tracked(gen, RowState.ACTIVE, now, now, in_view=in_view)
            self._rows[gid] = t
            return [self._event(EventKind.APPEARED, t, now, source)]
        if in_view:
            t.in_view = True
        t.last_seen = now
        if t.state is RowState.FINISHED:
            if gen.is_terminal and t.generation.status == UNKNOWN_STATUS:
                # A real outcome after all: tell it.
                return self._finish(t, gen, now, source, upgrade=True)
            if gen.is_terminal and gen.status == t.generation.status:
                t.generation = _merge_final(t.generation, gen)
            # A finished row never goes back to active (a lagging list, a late poll).
            return []
        if gen.is_terminal:
            return self._finish(t, gen, now, source)
        events: list[LifecycleEvent] = []
        was_started = t.generation.started_at is not None or t.generation.status == "processing"
        t.generation = gen
        if in_view and t.state is RowState.PENDING:
            t.state = RowState.ACTIVE
            t.vanished_at = None
            t.resolve_rounds = 0
        if gen.status == Status.PROCESSING.value and not was_started:
            events.append(self._event(EventKind.STARTED, t, now, source))
        return events

    # -- outcomes from other sources ---------------------------------------------------

    def apply_outcome(
        self,
        generation_id: str,
        status: str,
        now: float | None = None,
        *,
        source: str,
        generation: Generation | None = None,
        result_url: str | None = None,
        error: str | None = None,
    ) -> list[LifecycleEvent]:
        """A terminal outcome learnt elsewhere (event stream, status query, cancel...).

        Ignored for ids neither tracked nor watched (the event stream and the status
        lists speak of generations outside this view), for dismissed ids, and for rows
        that already have an outcome (the first source wins; only "unknown" can still
        be upgraded to a real outcome).
        """
        now = self._now(now)
        if status not in _FINAL_BY_STATUS or generation_id in self._dismissed:
            return []
        t = self._rows.get(generation_id)
        if t is None and generation_id not in self._watched:
            return []
        if (
            t is not None
            and t.state is RowState.FINISHED
            and (t.generation.status != UNKNOWN_STATUS or status == UNKNOWN_STATUS)
        ):
            return []
        base = generation or (t.generation if t is not None else None)
        if base is None:
            return []
        update: dict[str, Any] = {"status": status}
        if result_url is not None:
            update["result_url"] = result_url
        if error is not None:
            update["error_message"] = error
        if base.completed_at is None and status != UNKNOWN_STATUS:
            # The hub's time is unknown here; the observation time is the best guess.
            update["completed_at"] = now
        final = base.model_copy(update=update)
        if t is None:
            t = Tracked(final, RowState.ACTIVE, now, now)
            self._rows[generation_id] = t
        if generation is not None and t.generation is not generation:
            final = _merge_final(t.generation, final)
        return self._finish(t, final, now, source, upgrade=t.state is RowState.FINISHED)

    def apply_event(self, data: Any, now: float | None = None) -> list[LifecycleEvent]:
        """A `media_generation_completed` payload from `GET /api/events`."""
        if not isinstance(data, Mapping):
            return []
        gid = data.get("generation_id")
        status = data.get("status")
        if not isinstance(gid, str) or not gid or status not in ("succeeded", "failed"):
            return []
        now = self._now(now)
        url = _text_or_none(data.get("url")) if status == "succeeded" else None
        error = _text_or_none(data.get("error")) if status == "failed" else None
        generation = None
        if gid not in self._rows:
            if gid not in self._watched:
                return []
            try:
                generation = parse_generation(
                    {
                        "generation_id": gid,
                        "model_name": _text_or_none(data.get("model")),
                        "media_type": _text_or_none(data.get("media_type")),
                        "status": status,
                        "result_url": url,
                        "error_message": error,
                        "completed_at": now,
                    }
                )
            except ValidationError:
                return []
        return self.apply_outcome(
            gid, status, now, source="events", generation=generation, result_url=url, error=error
        )

    def mark_cancelled(self, generation_id: str, now: float | None = None) -> list[LifecycleEvent]:
        """This app cancelled it (DELETE answered 200): it is cancelled, say so now."""
        t = self._rows.get(generation_id)
        if t is not None:
            t.cancelled_here = True
        return self.apply_outcome(generation_id, Status.CANCELLED.value, now, source="cancel")

    def resolve_unknown(
        self,
        generation_id: str,
        now: float | None = None,
        *,
        source: str = "get-404",
        reason: str | None = None,
    ) -> list[LifecycleEvent]:
        """Finished, outcome unknown, because of `reason` (cancelled when this app
        cancelled it). Callers conclude this only on evidence, or after the limit."""
        t = self._rows.get(generation_id)
        if t is None or t.state is RowState.FINISHED:
            return []
        if t.cancelled_here:
            return self.apply_outcome(generation_id, Status.CANCELLED.value, now, source="cancel")
        t.unknown_reason = reason
        events = self.apply_outcome(generation_id, UNKNOWN_STATUS, now, source=source)
        return [replace(e, reason=reason) for e in events]

    # -- housekeeping ---------------------------------------------------------------------

    def dismiss(self, generation_id: str) -> bool:
        """Hide a finished row now (it will not come back). False for rows in flight."""
        t = self._rows.get(generation_id)
        if t is None or t.state is not RowState.FINISHED:
            return False
        self._forget(generation_id)
        self._dismissed[generation_id] = None
        while len(self._dismissed) > self.history_cap:
            self._dismissed.popitem(last=False)
        return True

    def expire(self, now: float | None = None) -> list[str]:
        """Forget finished rows past the linger (unless still listed or watched), and the
        oldest finished rows beyond `history_cap`. Returns the forgotten ids."""
        now = self._now(now)
        gone = []
        for gid in list(self._finished_order):
            t = self._rows.get(gid)
            if t is None:
                self._finished_order.pop(gid, None)
                continue
            if t.in_view or gid in self._watched or self._lingering(t, now):
                continue
            self._forget(gid)
            gone.append(gid)
        while len(self._finished_order) > self.history_cap:
            gid, _ = self._finished_order.popitem(last=False)
            if gid in self._rows:
                del self._rows[gid]
                gone.append(gid)
        cutoff = now - self.depth_window
        while self._depth and self._depth[0].at < cutoff:
            self._depth.popleft()
        self._expire_history(now - self.history_window)
        return gone

    def _expire_history(self, cutoff: float) -> None:
        # Oldest outcome first, so this stops at the first row still in the window (one
        # that completed out of order waits behind it, bounded by `history_cap`).
        history = self._history
        while history:
            gen = next(iter(history.values()))
            if gen.completed_at is not None and gen.completed_at >= cutoff:
                break
            history.popitem(last=False)

    def _forget(self, gid: str) -> None:
        self._rows.pop(gid, None)
        self._finished_order.pop(gid, None)

    # -- internals ---------------------------------------------------------------------

    def _now(self, now: float | None) -> float:
        return self.clock() if now is None else float(now)

    def _lingering(self, t: Tracked, now: float) -> bool:
        return t.finished_at is not None and now - t.finished_at <= self.linger

    def _event(self, kind: EventKind, t: Tracked, now: float, source: str) -> LifecycleEvent:
        return LifecycleEvent(kind, t.generation_id, now, t.generation, source)

    def _finish(
        self, t: Tracked, final: Generation, now: float, source: str, *, upgrade: bool = False
    ) -> list[LifecycleEvent]:
        if t.state is RowState.FINISHED and not upgrade:
            return []
        t.generation = final
        t.state = RowState.FINISHED
        t.finished_at = now
        if final.status != UNKNOWN_STATUS:
            t.unknown_reason = None
        t.outcome_source = source
        gid = t.generation_id
        self._finished_order[gid] = None
        self._finished_order.move_to_end(gid)
        if final.status != UNKNOWN_STATUS:
            # No hub time: the observation time is the best guess (as in
            # `apply_outcome`), and what lets the history's window expire the row.
            stamped = final if final.completed_at is not None else _completed(final, now)
            self._history[gid] = stamped
            self._history.move_to_end(gid)
            while len(self._history) > self.history_cap:
                self._history.popitem(last=False)
        return [self._event(_FINAL_BY_STATUS[final.status], t, now, source)]

    def add_history(self, rows: Iterable[Generation], now: float | None = None) -> int:
        """Seed the statistics with finished rows the hub still lists.

        They come from the terminal `status=` queries at start-up: no events, no table
        rows, only history. Their hub timestamps give wait/run percentiles,
        throughput and ETAs from the first minute, and rebuild the queue-depth
        history of the last window, so the insight survives a restart of the app.
        Returns how many rows were added.
        """
        now = self._now(now)
        cutoff = now - self.history_window
        added = 0
        earliest = now
        for gen in rows:
            gid = gen.generation_id
            if not gen.is_terminal or gen.completed_at is None:
                continue
            if gid in self._rows or gid in self._history or gen.completed_at > now:
                continue
            earliest = min(earliest, gen.completed_at)
            if gen.completed_at < cutoff:
                continue  # before the window: it only tells how far back the hub reaches
            self._history[gid] = gen
            added += 1
        if not added:
            return 0
        ordered = sorted(self._history.items(), key=lambda item: item[1].completed_at or 0.0)
        self._history = OrderedDict(ordered[-self.history_cap :])
        earliest = min([earliest, *((g.completed_at or now) for g in self._history.values())])
        self.history_since = (
            earliest if self.history_since is None else min(self.history_since, earliest)
        )
        self._rebuild_depth(now)
        return added

    def _rebuild_depth(self, now: float, step: float = 60.0) -> None:
        """Depth samples before the first live one, from enqueued/started/completed."""
        first_live = self._depth[0].at if self._depth else now
        rows = list(self._history.values()) + [
            t.generation for t in self._rows.values() if t.state is RowState.ACTIVE
        ]
        rebuilt: list[DepthSample] = []
        at = max(now - self.depth_window, min((g.enqueued_at or now) for g in rows))
        while at < first_live - step / 2:
            queued = processing = 0
            by_model: dict[str, int] = {}
            for g in rows:
                if g.enqueued_at is None or g.enqueued_at > at:
                    continue
                end = g.completed_at if g.is_terminal else None
                if end is not None and end <= at:
                    continue
                if g.started_at is not None and g.started_at <= at:
                    processing += 1
                else:
                    queued += 1
                    by_model[g.model_name] = by_model.get(g.model_name, 0) + 1
            rebuilt.append(DepthSample(at, queued, processing, by_model))
            at += step
        live = [s for s in self._depth if s.at >= first_live]
        self._depth.clear()
        self._depth.extend(rebuilt + live)


#: Raw status strings, read once (an enum's `.value` is a property lookup per call).
_PROCESSING = Status.PROCESSING.value
_QUEUED_LIKE = (Status.QUEUED.value, Status.IN_PROGRESS.value)


def _merge_final(known: Generation, final: Generation) -> Generation:
    """The final row, keeping what an earlier sighting knew and the final one lacks."""
    update = {
        name: getattr(known, name)
        for name in ("enqueued_at", "started_at", "prompt", "target_namespace", "target_repo")
        if getattr(final, name) is None and getattr(known, name) is not None
    }
    for name in ("model_name", "media_type"):
        if getattr(final, name) == "unknown" and getattr(known, name) != "unknown":
            update[name] = getattr(known, name)
    return final.model_copy(update=update) if update else final


def _completed(gen: Generation, at: float) -> Generation:
    return gen.model_copy(update={"completed_at": at})


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


__all__ = [
    "FINAL_KINDS",
    "SOURCES",
    "UNKNOWN_STATUS",
    "DepthSample",
    "EventKind",
    "LifecycleEvent",
    "RowState",
    "Tracked",
    "Tracker",
]
