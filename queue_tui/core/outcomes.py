"""Where outcomes come from: every source the hub offers, best first.

Polls of the active view say *that* a generation finished (it left the view), not *how*.
`LifecycleWatcher` resolves each outcome from the best source available, and degrades
quietly when the hub lacks one (404/405 mark that source unavailable; no error banner):

1. `GET /api/events` (Server-Sent Events): `media_generation_completed` gives succeeded
   or failed, with the result URL or error, the moment it happens. Lossy by design:
   nothing from before the connection, nothing for cancelled or expired rows. It runs
   as its own loop (`run_event_stream`) with reconnect and backoff.
2. The terminal `status=succeeded|failed|cancelled` list queries under the same
   server-side filters: at most one round per poll interval, only when a row vanished
   without an event (or a watched id was never listed).
3. `GET /api/ai/queue/{id}`: 404 once a row is no longer queued; with nothing else to
   go on that means "finished, outcome unknown" (or cancelled, when this app did it).

Polling stays the source of truth for what is active; events only add outcomes sooner.
Callback-based and cancel-safe: the dashboard and the headless commands drive it the
same way (see `queue_tui.headless`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx
from httpx_sse import SSEError, aconnect_sse

from queue_tui.api.client import CancelOutcome, FetchResult, QueueClient, parse_retry_after
from queue_tui.api.errors import (
    AuthError,
    NotFoundError,
    QueueError,
    RateLimitedError,
    RequestRejectedError,
    RequestTimeoutError,
    ServerError,
    UnreachableError,
)
from queue_tui.api.models import TERMINAL_STATUSES
from queue_tui.core.filters import QueueFilters
from queue_tui.core.poller import Snapshot
from queue_tui.core.tracker import LifecycleEvent, RowState, Tracker

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/events"
COMPLETED_EVENT = "media_generation_completed"
#: The order the terminal lists are asked in: the commonest outcome first.
TERMINAL_QUERY_ORDER = ("succeeded", "failed", "cancelled")
#: Status codes meaning "this hub does not offer that".
UNSUPPORTED_STATUSES = frozenset({404, 405, 501})
#: The hub sends a keep-alive every 15 s; silence for this long means a dead stream.
EVENTS_READ_TIMEOUT = 45.0
EVENTS_BACKOFF_BASE = 1.0
EVENTS_AUTH_RETRY = 60.0
#: A stream payload bigger than this is not a completion event; skip it.
MAX_EVENT_BYTES = 256 * 1024

EventsCallback = Callable[[list[LifecycleEvent]], Awaitable[None] | None]
StateCallback = Callable[["EventsState"], Awaitable[None] | None]


class EventsState(StrEnum):
    OFF = "off"
    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    #: The hub has no event stream (404/405/not SSE): polling alone resolves outcomes.
    UNAVAILABLE = "unavailable"


class EventStreamUnavailable(Exception):
    """The hub does not offer the event stream."""


async def _call(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


def _stream_error(response: httpx.Response, host: str, token_source: str) -> QueueError:
    status = response.status_code
    if status in (401, 403):
        return AuthError(
            f"event stream refused ({status})", status_code=status, token_source=token_source
        )
    if status == 429:
        return RateLimitedError(
            "event stream rate limited (429)",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    if status >= 500:
        return ServerError(f"event stream: hub error {status}", status_code=status)
    return RequestRejectedError(f"event stream rejected ({status})", status_code=status)


class LifecycleWatcher:
    """Feeds a `Tracker` from polls and resolves vanished rows from every outcome source.

    - `await handle_snapshot(snapshot)` after each successful poll: observe, then resolve
      what vanished (status queries, then get-by-id), returning every lifecycle event.
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
    ) -> None:
        self.client = client
        self.tracker = tracker
        self.interval = float(poller_interval)
        self.clock = clock or tracker.clock
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self.backoff_cap = backoff_cap
        self.read_timeout = read_timeout
        self.max_gets_per_round = max_gets_per_round
        self.events_state = EventsState.CONNECTING if events else EventsState.OFF
        self.events_enabled = events
        self.status_queries_available = True
        self.get_available = True
        #: Completion events received (all of them, not only for tracked rows).
        self.events_received = 0
        self.events_reconnects = 0
        #: One line about the last stream failure (for a status bar), or None.
        self.events_error: str | None = None
        #: `monotonic()` of the next reconnect while retrying.
        self.events_retry_at: float | None = None
        self.status_queries = 0
        self.gets = 0
        self._filters = QueueFilters()
        #: Seed the tracker's history from the terminal lists after the first poll of
        #: each server-side view (the dashboard's stats and ETAs want it; `events` not).
        self.backfill_enabled = backfill
        self._backfilled: set[tuple[str | None, ...]] = set()
        self._last_round: float | None = None
        self._lock = asyncio.Lock()

    # -- sources ---------------------------------------------------------------------

    @property
    def sources(self) -> dict[str, str]:
        """Each outcome source and its state, for a status bar or `--verbose` line."""
        return {
            "events": self.events_state.value,
            "status-query": "available" if self.status_queries_available else "unavailable",
            "get": "available" if self.get_available else "unavailable",
        }

    def _stream_live(self) -> bool:
        return self.events_state is EventsState.LIVE

    def _any_source(self) -> bool:
        return (
            self.events_state in (EventsState.LIVE, EventsState.CONNECTING, EventsState.RETRYING)
            or self.status_queries_available
            or self.get_available
        )

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
        """Seed history from the hub's terminal lists under `filters`; quiet on faults."""
        self._backfilled.add(filters.server_key())
        if not self.status_queries_available or (
            filters.status is not None and filters.status in TERMINAL_STATUSES
        ):
            return 0
        base = filters.with_(search=None)
        added = 0
        for status in TERMINAL_QUERY_ORDER:
            result = await self._fetch_terminal(base, status, "history backfill")
            if result is None:
                break
            added += self.tracker.add_history(result.page.generations, self.clock())
        log.debug("history backfill: %d finished rows", added)
        return added

    async def resolve(self, *, force: bool = False) -> list[LifecycleEvent]:
        """One resolution round for pending rows and unseen watched ids.

        At most one round per poll interval (unless `force`). With a live event stream, a
        freshly vanished row gets one round of grace for its event to arrive first.
        """
        tracker = self.tracker
        pending = tracker.pending_ids()
        unseen = tracker.unseen_watched()
        if not pending and not unseen:
            return []
        mono = self._monotonic()
        if (
            not force
            and self._last_round is not None
            and mono - self._last_round < self.interval * 0.8
        ):
            return []
        self._last_round = mono
        async with self._lock:
            return await self._resolve_round(pending, unseen)

    async def _resolve_round(self, pending: list[str], unseen: list[str]) -> list[LifecycleEvent]:
        tracker = self.tracker
        events: list[LifecycleEvent] = []
        if not self._any_source():
            for gid in pending:
                events.extend(tracker.resolve_unknown(gid, self.clock(), source="poll"))
            return events
        wanted: set[str] = set(unseen)
        for gid in pending:
            entry = tracker.get(gid)
            if entry is None:
                continue
            entry.resolve_rounds += 1
            if self._stream_live() and entry.resolve_rounds == 1:
                continue  # its completion event is probably on its way
            wanted.add(gid)
        if not wanted:
            return events
        if self.status_queries_available:
            events.extend(await self._query_terminal_lists(wanted))
        # get-by-id: for unseen watched ids (is it there yet?), and for pending rows the
        # terminal lists missed twice (or could not be asked).
        candidates = []
        for gid in sorted(wanted):
            entry = tracker.get(gid)
            if entry is None or (
                entry.state is RowState.PENDING
                and (not self.status_queries_available or entry.resolve_rounds >= 2)
            ):
                candidates.append(gid)
        events.extend(await self._get_by_id(candidates[: self.max_gets_per_round]))
        if not self._any_source():
            for gid in tracker.pending_ids():
                events.extend(tracker.resolve_unknown(gid, self.clock(), source="poll"))
        return events

    async def _query_terminal_lists(self, wanted: set[str]) -> list[LifecycleEvent]:
        events: list[LifecycleEvent] = []
        remaining = set(wanted)
        base = self._filters.with_(search=None)
        for status in TERMINAL_QUERY_ORDER:
            if not remaining:
                break
            result = await self._fetch_terminal(base, status, "status query")
            if result is None:
                break
            now = self.clock()
            for row in result.page.generations:
                gid = row.generation_id
                if gid in remaining and row.status in TERMINAL_STATUSES:
                    events.extend(
                        self.tracker.apply_outcome(
                            gid, row.status, now, source="status-query", generation=row
                        )
                    )
                    remaining.discard(gid)
        return events

    async def _fetch_terminal(
        self, base: QueueFilters, status: str, purpose: str
    ) -> FetchResult | None:
        """One terminal `status=` list, or None when it failed (and why is noted)."""
        self.status_queries += 1
        try:
            return await self.client.fetch(base.with_(status=status))
        except NotFoundError:
            self._status_queries_unavailable("404")
        except RequestRejectedError as exc:
            # The hub does not take this status filter (405, 400, 422...).
            self._status_queries_unavailable(str(exc.status_code))
        except QueueError as exc:
            log.info("%s failed (%s); trying again later", purpose, exc.kind)
        return None

    def _status_queries_unavailable(self, why: str) -> None:
        if self.status_queries_available:
            log.info("terminal status queries unavailable (%s)", why)
        self.status_queries_available = False

    async def _get_by_id(self, ids: list[str]) -> list[LifecycleEvent]:
        events: list[LifecycleEvent] = []
        tracker = self.tracker
        for gid in ids:
            if not self.get_available:
                break
            entry = tracker.get(gid)
            if entry is not None and entry.state is RowState.FINISHED:
                continue  # resolved meanwhile (an event arrived)
            self.gets += 1
            try:
                row = await self.client.get(quote(gid, safe=""))
            except RequestRejectedError as exc:
                if exc.status_code in UNSUPPORTED_STATUSES:
                    log.info("get-by-id unavailable (%s)", exc.status_code)
                    self.get_available = False
                break
            except QueueError as exc:
                log.info("get-by-id failed (%s); trying again next round", exc.kind)
                break
            now = self.clock()
            if row is None:
                if entry is not None and entry.state is RowState.PENDING:
                    events.extend(tracker.resolve_unknown(gid, now, source="get-404"))
                # An unseen watched id that 404s may simply not be listed yet.
                continue
            if row.generation_id != gid:
                row = row.model_copy(update={"generation_id": gid})
            events.extend(tracker.observe_row(row, now, source="get"))
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
            except EventStreamUnavailable as exc:
                self.events_error = str(exc)
                log.info("event stream unavailable: %s", exc)
                await self._set_state(EventsState.UNAVAILABLE, on_state)
                return
            except QueueError as exc:
                error = exc
                self.events_error = exc.message
            if useful or (opened_at and self._monotonic() - opened_at[0] > 30.0):
                failures = 0
            failures += 1
            delay = self._backoff(failures, error)
            self.events_reconnects += 1
            self.events_retry_at = self._monotonic() + delay
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
        if state is not EventsState.RETRYING:
            self.events_retry_at = None
        await _call(on_state, state)

    async def _stream_once(
        self,
        on_events: EventsCallback,
        on_state: StateCallback | None,
        opened_at: list[float],
    ) -> bool:
        """One connection. True when it delivered at least one completion event."""
        settings = self.client.settings
        timeout = httpx.Timeout(settings.timeout, read=self.read_timeout)
        useful = False
        try:
            async with aconnect_sse(
                self.client.http, "GET", EVENTS_PATH, timeout=timeout
            ) as source:
                response = source.response
                if response.status_code in UNSUPPORTED_STATUSES:
                    raise EventStreamUnavailable(f"no event stream ({response.status_code})")
                if response.status_code >= 400:
                    raise _stream_error(response, settings.display_host, settings.token_source)
                content_type = response.headers.get("content-type", "").partition(";")[0]
                if "text/event-stream" not in content_type:
                    raise EventStreamUnavailable(f"not an event stream ({content_type or '?'})")
                opened_at.append(self._monotonic())
                self.events_error = None
                await self._set_state(EventsState.LIVE, on_state)
                async for sse in source.aiter_sse():
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
        except SSEError as exc:
            raise EventStreamUnavailable(f"not an event stream ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise RequestTimeoutError("event stream went silent") from None
        except httpx.TransportError as exc:
            raise UnreachableError(f"event stream lost ({type(exc).__name__})") from None
        return useful


__all__ = [
    "COMPLETED_EVENT",
    "EVENTS_PATH",
    "EventStreamUnavailable",
    "EventsState",
    "LifecycleWatcher",
]
