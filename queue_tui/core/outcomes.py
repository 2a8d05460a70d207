"""Where outcomes come from: every source the hub offers, and conclusions only on answers.

Polls of the active view say *that* a generation finished (it left the view), not *how*.
`LifecycleWatcher` resolves each outcome from the sources the hub offers, and degrades
quietly when it lacks one (404/405: that source is off, no error banner):

- the event stream `GET /api/events` (pushed: `run_event_stream`): succeeded or failed
  with the URL or error the moment it happens; lossy (nothing from before the
  connection, nothing for cancelled rows);
- the asked sources, each an `OutcomeSource`: the terminal `status=X` lists (a row a
  list returns *is* X, in every row shape), then, as the last resorts, the history's
  `GET /api/ai/generations/{id}` and get-by-id.

A failed request is never evidence. A row becomes "unknown" only when every asked source
the hub offers has *answered* without it (`Evidence`), or when its sources kept failing
past `resolve_limit`, and then with the reason. A new source is one `OutcomeSource`
subclass in `default_sources` (`History` is the example).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from queue_tui.api.client import UNSUPPORTED_STATUSES, CancelOutcome, FetchResult, QueueClient
from queue_tui.api.errors import (
    AuthError,
    NotFoundError,
    QueueError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    StreamUnavailableError,
)
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import ACTIVE_STATUSES, TERMINAL_STATUSES, Generation
from queue_tui.config import DEFAULT_RESOLVE_LIMIT
from queue_tui.core.poller import Snapshot, backoff_delay
from queue_tui.core.timefmt import fmt_duration
from queue_tui.core.tracker import LifecycleEvent, Tracker

log = logging.getLogger(__name__)

COMPLETED_EVENT = "media_generation_completed"
#: A relay's word that events were lost before its replay (the id asked to resume
#: from is too old, or from an earlier run of the relay).
REPLAY_GAP_EVENT = "queue_tui_replay_gap"
#: Longer `id:`s are not remembered (not resumed from).
MAX_EVENT_ID = 200
#: The order the terminal lists are asked in: the commonest outcome first.
TERMINAL_QUERY_ORDER = ("succeeded", "failed", "cancelled")
#: The hub sends a keep-alive every 15 s; silence for this long means a dead stream.
EVENTS_READ_TIMEOUT = 45.0
EVENTS_BACKOFF_BASE = 1.0
EVENTS_AUTH_RETRY = 60.0
#: A stream payload bigger than this is not a completion event; skip it.
MAX_EVENT_BYTES = 256 * 1024
#: Server-side views remembered as backfilled: past this many (a day of trying filters),
#: the memory starts again; backfilling a view twice only re-reads rows already known.
BACKFILLED_VIEWS_KEPT = 64
NO_SOURCE_REASON = "the hub offers no outcome source (no status lists, get-by-id or events)"

EventsCallback = Callable[[list[LifecycleEvent]], Awaitable[None] | None]
StateCallback = Callable[["EventsState"], Awaitable[None] | None]


class EventsState(StrEnum):
    OFF = "off"
    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    #: The hub has no event stream (404/405/not SSE): polling alone resolves outcomes.
    UNAVAILABLE = "unavailable"


# -- the asked sources -----------------------------------------------------------------------


@dataclass(slots=True)
class Answer:
    """What one source said about the ids it was asked about. A fault says nothing
    about any id: only `found` and `absent` are evidence."""

    found: dict[str, Generation] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    fault: QueueError | None = None


class OutcomeSource:
    """One place the hub can be asked how generations ended."""

    #: Its key in `Evidence` and in `LifecycleWatcher.sources`.
    name: str = ""
    #: The `LifecycleEvent.source` of what it finds.
    event_source: str = ""
    #: How it reads in an "unknown" reason: "not in {absence}".
    absence: str = ""
    #: The `LifecycleEvent.source` of an "unknown" concluded when it is the last asked.
    unknown_source: str = "status-query"
    #: Answers without an id it takes before that absence counts (a list may lag the
    #: active view by a poll).
    misses_needed: ClassVar[int] = 1
    #: Asked only about ids every other source has answered without (and about watched
    #: ids not listed yet): it costs a request per id.
    last_resort: ClassVar[bool] = False

    def __init__(self) -> None:
        self._on = True
        self.requests = 0

    @property
    def available(self) -> bool:
        return self._on

    def off(self, why: str) -> None:
        if self._on:
            log.info("%s unavailable (%s)", self.name, why)
        self._on = False

    async def ask(self, client: QueueClient, filters: QueueFilters, ids: list[str]) -> Answer:
        raise NotImplementedError


class ListEndpoint:
    """The one path every terminal list is asked on: a 404 there turns them all off."""

    available = True


class StatusList(OutcomeSource):
    """`GET /api/ai/queue?status=X` under the view's server-side filters."""

    event_source = "status-query"
    misses_needed = 2

    def __init__(self, status: str, endpoint: ListEndpoint | None = None) -> None:
        super().__init__()
        self.status = status
        self.name = f"status={status}"
        self.absence = f"the hub's {status} list"
        self._endpoint = endpoint or ListEndpoint()

    @property
    def available(self) -> bool:
        return self._on and self._endpoint.available

    async def rows(self, client: QueueClient, filters: QueueFilters) -> list[Generation]:
        """Every row of the list, as this status (membership is the outcome). Raises
        the fault; a hub that does not take the filter turns the source off (and []).
        """
        self.requests += 1
        try:
            result: FetchResult = await client.fetch(filters.with_(search=None, status=self.status))
        except (NotFoundError, ServerError) as exc:
            if isinstance(exc, ServerError) and exc.status_code not in UNSUPPORTED_STATUSES:
                raise  # a passing fault: asked again later
            # The lists' one path is missing (404), or not implemented there (501, as a
            # replay answers what it did not record); a 405/422 below is this status
            # value refused, and the other lists may still work.
            self._endpoint.available = False
            log.info("terminal status lists unavailable (%s)", exc.message)
            return []
        except RequestRejectedError as exc:  # 405, 400, 422: this filter is not taken
            self.off(str(exc.status_code))
            return []
        return [_as_status(row, self.status) for row in result.page.generations]

    async def ask(self, client: QueueClient, filters: QueueFilters, ids: list[str]) -> Answer:
        try:
            rows = await self.rows(client, filters)
        except QueueError as exc:
            log.info("%s failed (%s); asking again later", self.name, exc.kind)
            return Answer(fault=exc)
        if not self.available:
            return Answer()
        listed = {row.generation_id: row for row in rows}
        found = {gid: listed[gid] for gid in ids if gid in listed}
        return Answer(found, set(ids) - found.keys())


class GetById(OutcomeSource):
    """`GET /api/ai/queue/{id}`: the row while it is queued or running, its final status
    where the hub keeps finished generations, 404 where it does not (or never had it)."""

    name = "get"
    event_source = "get"
    absence = "GET by id (404)"
    unknown_source = "get-404"
    last_resort = True

    def __init__(self, max_per_round: int = 20) -> None:
        super().__init__()
        self.max_per_round = max_per_round

    async def ask(self, client: QueueClient, filters: QueueFilters, ids: list[str]) -> Answer:
        answer = Answer()
        for gid in ids[: self.max_per_round]:
            self.requests += 1
            try:
                row = await client.get(gid)
            except RequestRejectedError as exc:
                if exc.status_code in UNSUPPORTED_STATUSES:
                    self.off(str(exc.status_code))
                    break
                answer.fault = exc
                break
            except QueueError as exc:
                log.info("get-by-id failed (%s); asking again next round", exc.kind)
                answer.fault = exc
                break
            if row is None:
                answer.absent.add(gid)
            else:
                if row.generation_id != gid:
                    row = row.model_copy(update={"generation_id": gid})
                answer.found[gid] = row
        return answer


class History(OutcomeSource):
    """`GET /api/ai/generations/{id}`: the hub's record of past generations, kept after
    the `status=` lists have let a row go. A terminal row is that outcome; one the hub
    says is still in flight is no evidence; 404, or a row with no status or one outside
    the vocabulary (e.g. "expired"), is an answer without an outcome. A hub without the
    endpoint (405, 501) turns the source off for the session."""

    name = "history"
    event_source = "history"
    absence = "the history's outcomes"
    unknown_source = "history-404"
    last_resort = True

    def __init__(self, max_per_round: int = 20) -> None:
        super().__init__()
        self.max_per_round = max_per_round

    async def ask(self, client: QueueClient, filters: QueueFilters, ids: list[str]) -> Answer:
        answer = Answer()
        for gid in ids[: self.max_per_round]:
            self.requests += 1
            try:
                row = await client.get_generation(gid)
            except (RequestRejectedError, ServerError) as exc:
                if exc.status_code in UNSUPPORTED_STATUSES:
                    self.off(str(exc.status_code))
                else:
                    answer.fault = exc
                break
            except QueueError as exc:
                log.info("history lookup failed (%s); asking again next round", exc.kind)
                answer.fault = exc
                break
            if row is not None and row.is_terminal:
                if row.generation_id != gid:
                    row = row.model_copy(update={"generation_id": gid})
                answer.found[gid] = row
            elif row is None or not row.status_reported or row.status not in ACTIVE_STATUSES:
                answer.absent.add(gid)
        return answer


def default_sources(max_gets_per_round: int = 20) -> list[OutcomeSource]:
    """The asked sources, in the order they are asked: cheapest first. The lists take
    one request for every id; the history and get-by-id one per id, and only about
    what the lists answered without. The history goes before get-by-id because it
    keeps finished rows, which get-by-id answers 404 for on hubs without persistent
    generations; get-by-id stays last, as it also finds rows still in flight."""
    endpoint = ListEndpoint()
    lists = [StatusList(status, endpoint) for status in TERMINAL_QUERY_ORDER]
    return [*lists, History(max_gets_per_round), GetById(max_gets_per_round)]


@dataclass(slots=True)
class Evidence:
    """What the asked sources have *answered* about one unresolved id. Failed requests
    add nothing but `last_fault`: they are not evidence."""

    #: Source name -> answers without the id, and (monotonic) when the last one came.
    misses: dict[str, int] = field(default_factory=dict)
    missed_at: dict[str, float] = field(default_factory=dict)
    #: The last fault met while asking about it (told when the limit concludes).
    last_fault: str | None = None

    def miss(self, source: str, at: float) -> None:
        self.misses[source] = self.misses.get(source, 0) + 1
        self.missed_at[source] = at


async def _call(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


class LifecycleWatcher:
    """Feeds a `Tracker` from polls and resolves vanished rows from every outcome source.

    - `await handle_snapshot(snapshot)` after each successful poll: observe, then resolve
      what vanished, returning every lifecycle event.
    - `await run_event_stream(on_events)` in its own task: the SSE loop; calls
      `on_events(events)` as outcomes arrive. Cancel the task to stop it.
    - `await cancel(id)` cancels through the client and records the outcome.
    """

    def __init__(
        self,
        client: QueueClient,
        tracker: Tracker,
        poller_interval: float = 2.0,
        *,
        events: bool = True,
        clock: Callable[[], float] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        backoff_cap: float = 60.0,
        read_timeout: float = EVENTS_READ_TIMEOUT,
        max_gets_per_round: int = 20,
        backfill: bool = False,
        resolve_limit: float = DEFAULT_RESOLVE_LIMIT,
        sources: Sequence[OutcomeSource] | None = None,
    ) -> None:
        self.client = client
        self.tracker = tracker
        self.interval = float(poller_interval)
        self.clock = clock or tracker.clock
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self.backoff_cap = backoff_cap
        self.read_timeout = read_timeout
        self.asked: list[OutcomeSource] = list(sources or default_sources(max_gets_per_round))
        self.events_state = EventsState.CONNECTING if events else EventsState.OFF
        self.events_enabled = events
        #: Completion events received (all of them, not only for tracked rows).
        self.events_received = 0
        self.events_reconnects = 0
        #: The last `id:` the stream sent (hubs send none; a relay does), sent back as
        #: `Last-Event-ID` on reconnect; and how often a relay said events were lost.
        self.last_event_id: str | None = None
        self.events_gaps = 0
        self._filters = QueueFilters()
        #: Seed the tracker's history from the terminal lists after the first poll of
        #: each server-side view (the dashboard's stats and ETAs want it; `events` not).
        self.backfill_enabled = backfill
        self._backfilled: set[tuple[str | None, ...]] = set()
        self.resolve_limit = float(resolve_limit)
        #: What the sources answered about each unresolved id (pending or unseen).
        self._evidence: dict[str, Evidence] = {}
        #: Consecutive rounds in which no source answered (drives the backoff).
        self.round_failures = 0
        self._next_round_at: float | None = None
        self._lock = asyncio.Lock()

    # -- sources ---------------------------------------------------------------------

    @property
    def sources(self) -> dict[str, str]:
        """Each outcome source and its state, for a status bar or a debug line."""
        states = {"events": self.events_state.value}
        for src in self.asked:
            states[src.name] = "available" if src.available else "unavailable"
        return states

    def _lists(self) -> list[StatusList]:
        return [s for s in self.asked if isinstance(s, StatusList) and s.available]

    @property
    def status_queries_available(self) -> bool:
        return bool(self._lists())

    @property
    def get_available(self) -> bool:
        return any(isinstance(s, GetById) and s.available for s in self.asked)

    @property
    def status_queries(self) -> int:
        return sum(s.requests for s in self.asked if isinstance(s, StatusList))

    @property
    def gets(self) -> int:
        return sum(s.requests for s in self.asked if isinstance(s, GetById))

    def _any_source(self) -> bool:
        live = (EventsState.LIVE, EventsState.CONNECTING, EventsState.RETRYING)
        return self.events_state in live or any(s.available for s in self.asked)

    # -- polls -----------------------------------------------------------------------

    async def handle_snapshot(
        self, snapshot: Snapshot | FetchResult, now: float | None = None
    ) -> list[LifecycleEvent]:
        """Observe one poll, then resolve what vanished. Never raises for hub faults."""
        events = self.observe_snapshot(snapshot, now)
        more, _ = await self.follow_up(self._filters)
        return events + more

    def observe_snapshot(
        self, snapshot: Snapshot | FetchResult, now: float | None = None
    ) -> list[LifecycleEvent]:
        """The first half of `handle_snapshot`, no requests: what the page itself says
        (a dashboard shows the page right after this, before `follow_up`)."""
        result = snapshot.result if isinstance(snapshot, Snapshot) else snapshot
        now = self.clock() if now is None else now
        self._filters = result.filters
        return self.tracker.observe(result.page.generations, now, filters=result.filters)

    async def follow_up(self, filters: QueueFilters | None) -> tuple[list[LifecycleEvent], int]:
        """The second half: the history backfill (first page of a view) and one round
        of resolving what vanished. Returns the events and how many finished rows the
        backfill added."""
        added = 0
        if (
            filters is not None
            and self.backfill_enabled
            and filters.server_key() not in self._backfilled
        ):
            added = await self.backfill(filters)
        return await self.resolve(), added

    async def backfill(self, filters: QueueFilters) -> int:
        """Seed history from the hub's terminal lists under `filters`; quiet on faults
        (each list on its own: one failing does not skip the others)."""
        if len(self._backfilled) >= BACKFILLED_VIEWS_KEPT:
            self._backfilled.clear()
        self._backfilled.add(filters.server_key())
        if filters.status is not None and filters.status in TERMINAL_STATUSES:
            return 0
        added = 0
        for src in self._lists():
            if not src.available:  # the lists' path went missing just now
                continue
            try:
                rows = await src.rows(self.client, filters)
            except QueueError as exc:
                log.info("history backfill: %s failed (%s)", src.name, exc.kind)
                continue
            added += self.tracker.add_history(rows, self.clock())
        log.debug("history backfill: %d finished rows", added)
        return added

    def evidence(self, generation_id: str) -> Evidence | None:
        """What the sources have answered so far about an unresolved id (None: nothing)."""
        return self._evidence.get(generation_id)

    def never_listed(self, generation_id: str, since: float) -> bool:
        """True when, since `since` (this watcher's monotonic clock), every source the
        hub offers has *answered* without this id: never seen is concluded only from
        answers, never from failed requests."""
        ev = self._evidence.get(generation_id)
        if generation_id in self.tracker or ev is None:
            return False
        return all(ev.missed_at.get(s.name, -math.inf) >= since for s in self.asked if s.available)

    async def resolve(self, *, force: bool = False) -> list[LifecycleEvent]:
        """One resolution round for pending rows and unseen watched ids.

        At most one round per poll interval, and after a round in which no source
        answered, not before the poller's backoff delay (unless `force`). With a live
        event stream, a freshly vanished row gets one round of grace for its event.
        """
        tracker = self.tracker
        pending = tracker.pending_ids()
        unseen = tracker.unseen_watched()
        self._forget_settled(pending, unseen)
        if not pending and not unseen:
            return []
        next_round = self._next_round_at
        if not force and next_round is not None and self._monotonic() < next_round:
            return []
        async with self._lock:
            events, fault = await self._round(pending, unseen)
        if fault is None:
            self.round_failures = 0
            delay = self.interval * 0.8
        else:
            self.round_failures += 1
            delay = backoff_delay(
                max(self.interval, 0.001),
                self.round_failures,
                fault,
                cap=self.backoff_cap,
                rng=self._rng,
            )
        self._next_round_at = self._monotonic() + delay
        events.extend(self._apply_limit())
        return events

    def _forget_settled(self, pending: list[str], unseen: list[str]) -> None:
        """Evidence is kept only for ids still unresolved (bounded by what is pending)."""
        if len(self._evidence) > len(pending) + len(unseen):
            keep = set(pending) | set(unseen)
            for gid in [g for g in self._evidence if g not in keep]:
                del self._evidence[gid]

    def _ev(self, gid: str) -> Evidence:
        ev = self._evidence.get(gid)
        if ev is None:
            ev = self._evidence[gid] = Evidence()
        return ev

    def _exhausted(self, gid: str, *, last_resort: bool) -> bool:
        """Every available source (of the first rank, or all) has answered without it
        as often as it takes."""
        ev = self._evidence.get(gid)
        return all(
            ev is not None and ev.misses.get(s.name, 0) >= s.misses_needed
            for s in self.asked
            if s.available and (last_resort or not s.last_resort)
        )

    def _wanted(self, pending: list[str], unseen: list[str]) -> list[str]:
        wanted = list(unseen)
        for gid in pending:
            entry = self.tracker.get(gid)
            if entry is None:
                continue
            entry.resolve_rounds += 1
            if self.events_state is EventsState.LIVE and entry.resolve_rounds == 1:
                continue  # its completion event is probably on its way
            wanted.append(gid)
        return wanted

    async def _round(
        self, pending: list[str], unseen: list[str]
    ) -> tuple[list[LifecycleEvent], QueueError | None]:
        """Ask every source about what is unresolved. Returns the events, and the last
        fault when no source answered at all (None when one did)."""
        events: list[LifecycleEvent] = []
        if not self._any_source():
            return self._unknown(pending, "poll", NO_SOURCE_REASON), None
        remaining = self._wanted(pending, unseen)
        answered = False
        fault: QueueError | None = None
        for src in self.asked:
            if not src.available or not remaining:
                continue
            ids = remaining
            if src.last_resort:
                # Only what every other source answered without, and watched ids not
                # listed yet (is it there yet?).
                ids = [
                    g
                    for g in remaining
                    if g not in self.tracker or self._exhausted(g, last_resort=False)
                ]
                if not ids:
                    continue
            answer = await src.ask(self.client, self._filters, sorted(ids))
            if answer.fault is not None:
                fault = answer.fault
                for gid in ids:
                    self._ev(gid).last_fault = answer.fault.message
            answered = answered or bool(answer.found or answer.absent)
            now, mono = self.clock(), self._monotonic()
            for gid in answer.absent:
                self._ev(gid).miss(src.name, mono)
            for row in answer.found.values():
                events.extend(self.tracker.observe_row(row, now, source=src.event_source))
            remaining = [g for g in remaining if g not in answer.found]
        events.extend(self._conclude(remaining))
        if not self._any_source():
            events.extend(self._unknown(self.tracker.pending_ids(), "poll", NO_SOURCE_REASON))
        return events, (None if answered else fault)

    def _conclude(self, ids: list[str]) -> list[LifecycleEvent]:
        """Pending rows every source the hub offers has answered without: unknown, with
        that as the reason."""
        offered = [s for s in self.asked if s.available]
        if not offered:
            return []
        done = [
            g for g in ids if self.tracker.is_pending(g) and self._exhausted(g, last_resort=True)
        ]
        if not done:
            return []
        return self._unknown(done, offered[-1].unknown_source, f"not in {_listing(offered)}")

    def _unknown(self, ids: list[str], source: str, reason: str) -> list[LifecycleEvent]:
        events: list[LifecycleEvent] = []
        for gid in ids:
            events.extend(
                self.tracker.resolve_unknown(gid, self.clock(), source=source, reason=reason)
            )
        return events

    def _apply_limit(self) -> list[LifecycleEvent]:
        """Rows pending past `resolve_limit` while their sources failed: unknown, with
        the reason (the last fault), so a dead source cannot hold a row forever."""
        events: list[LifecycleEvent] = []
        now = self.clock()
        for gid in self.tracker.pending_ids():
            entry = self.tracker.get(gid)
            if entry is None or entry.vanished_at is None:
                continue
            if now - entry.vanished_at < self.resolve_limit:
                continue
            ev = self._evidence.get(gid)
            why = ev.last_fault if ev is not None and ev.last_fault else None
            if why is None:
                offered = any(s.available for s in self.asked)
                why = "no source answered" if offered else "no completion event came"
            reason = f"no outcome within {fmt_duration(self.resolve_limit)} ({why})"
            events.extend(self.tracker.resolve_unknown(gid, now, source="limit", reason=reason))
        return events

    # -- actions -----------------------------------------------------------------------

    async def cancel(
        self, generation_id: str, now: float | None = None
    ) -> tuple[CancelOutcome, list[LifecycleEvent]]:
        """Cancel through the hub; a 200 is recorded as cancelled at once. QueueErrors
        propagate (the caller shows them)."""
        outcome = await self.client.cancel(generation_id)
        now = self.clock() if now is None else now
        if outcome is CancelOutcome.CANCELLED:
            return outcome, self.tracker.mark_cancelled(generation_id, now)
        return outcome, []

    # -- the event stream ------------------------------------------------------------------

    def apply_payload(self, data: Any, now: float | None = None) -> list[LifecycleEvent]:
        """One completion payload (as decoded from the stream)."""
        self.events_received += 1
        return self.tracker.apply_event(data, self.clock() if now is None else now)

    async def run_event_stream(
        self, on_events: EventsCallback, *, on_state: StateCallback | None = None
    ) -> None:
        """Listen to `GET /api/events` until cancelled (or until the hub says it has no
        such stream). Reconnects with exponential backoff and full jitter."""
        if not self.events_enabled:
            return
        if self.client.settings.token_is_insecure:
            await self._set_state(EventsState.UNAVAILABLE, on_state)
            return
        failures = 0
        while True:
            await self._set_state(EventsState.CONNECTING, on_state)
            opened_at: list[float] = []
            useful = False
            error: QueueError | None = None
            try:
                useful = await self._stream_once(on_events, on_state, opened_at)
            except StreamUnavailableError as exc:
                log.info("event stream unavailable: %s", exc.message)
                await self._set_state(EventsState.UNAVAILABLE, on_state)
                return
            except QueueError as exc:
                error = exc
            if useful or (opened_at and self._monotonic() - opened_at[0] > 30.0):
                failures = 0
            failures += 1
            delay = self._backoff(failures, error)
            self.events_reconnects += 1
            log.info("event stream ended (%s); reconnecting in %.1fs", error or "closed", delay)
            await self._set_state(EventsState.RETRYING, on_state)
            await asyncio.sleep(delay)

    def _backoff(self, failures: int, error: QueueError | None) -> float:
        if isinstance(error, AuthError):
            return EVENTS_AUTH_RETRY
        ceiling = min(self.backoff_cap, EVENTS_BACKOFF_BASE * 2 ** min(failures - 1, 16))
        delay = self._rng.uniform(ceiling / 2, ceiling)
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    async def _set_state(self, state: EventsState, on_state: StateCallback | None) -> None:
        if state is self.events_state:
            return
        self.events_state = state
        await _call(on_state, state)

    async def _stream_once(
        self,
        on_events: EventsCallback,
        on_state: StateCallback | None,
        opened_at: list[float],
    ) -> bool:
        """One connection. True when it delivered at least one completion event."""
        useful = False
        async with self.client.event_stream(self.read_timeout, self.last_event_id) as stream:
            opened_at.append(self._monotonic())
            await self._set_state(EventsState.LIVE, on_state)
            async for sse in stream:
                if sse.id and len(sse.id) <= MAX_EVENT_ID:
                    self.last_event_id = sse.id
                if sse.event == REPLAY_GAP_EVENT:
                    await self._events_lost(on_events)
                    continue
                if sse.event != COMPLETED_EVENT or len(sse.data) > MAX_EVENT_BYTES:
                    continue
                try:
                    data = json.loads(sse.data)
                except ValueError:
                    continue
                events = self.apply_payload(data)
                useful = True
                if events:
                    await _call(on_events, events)
        return useful

    async def _events_lost(self, on_events: EventsCallback) -> None:
        """A relay could not replay everything since `last_event_id`: as after a
        reconnect to a hub, the status lists say how the rows that vanished ended; asked
        now, without the grace round a live stream gives (their events are gone)."""
        self.events_gaps += 1
        log.info("event stream: events were lost before the replay; asking the lists")
        for gid in self.tracker.pending_ids():
            entry = self.tracker.get(gid)
            if entry is not None:
                entry.resolve_rounds = max(entry.resolve_rounds, 1)
        events = await self.resolve(force=True)
        if events:
            await _call(on_events, events)


def _as_status(row: Generation, status: str) -> Generation:
    """A row from the `status=X` list, as X (membership is the outcome)."""
    if row.status == status:
        return row
    return row.model_copy(update={"status": status, "status_reported": True})


def _listing(sources: list[OutcomeSource]) -> str:
    """'the hub's succeeded, failed or cancelled lists, nor GET by id (404)'."""
    lists = [s.status for s in sources if isinstance(s, StatusList)]
    others = [s.absence for s in sources if not isinstance(s, StatusList)]
    parts = []
    if lists:
        words = lists[0] if len(lists) == 1 else ", ".join(lists[:-1]) + f" or {lists[-1]}"
        parts.append(f"the hub's {words} list{'s' if len(lists) > 1 else ''}")
    parts += others
    return ", nor ".join(parts)


__all__ = [
    "COMPLETED_EVENT",
    "REPLAY_GAP_EVENT",
    "Answer",
    "EventsState",
    "Evidence",
    "GetById",
    "History",
    "LifecycleWatcher",
    "OutcomeSource",
    "StatusList",
    "default_sources",
]
