"""The relay's state: one poller, one tracker, one event-stream subscriber for every viewer.

`Relay.run` polls the hub at the interval (the core `Poller`, with its backoff) and
feeds a `LifecycleWatcher` (the core's outcome resolution, with history backfill for
the terminal lists); the watcher's event stream runs beside it. What viewers ask is
answered from here (`answer_list`, `answer_get`); what the relay's view does not cover
goes upstream through `Upstream`, one request per distinct query per interval however
many viewers ask.

Every final outcome the relay learns, from any source, becomes an `Emitted` event in a
bounded `EventLog` that viewers stream and replay from (`Last-Event-ID`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from queue_tui.api.client import RELAY_UPSTREAM_OK, QueueClient
from queue_tui.api.errors import QueueError
from queue_tui.api.filters import SERVER_SPECS, QueueFilters
from queue_tui.api.models import ACTIVE_STATUSES, Generation
from queue_tui.core.outcomes import (
    COMPLETED_EVENT,
    REPLAY_GAP_EVENT,
    EventsState,
    LifecycleWatcher,
)
from queue_tui.core.poller import Poller, PollFailed, Snapshot
from queue_tui.core.tracker import UNKNOWN_STATUS, EventKind, LifecycleEvent, RowState, Tracker
from queue_tui.relay.metrics import RelayMetrics

log = logging.getLogger(__name__)

#: The relay's own outcomes, which the hub's stream never sends; hub clients ignore
#: event types they do not know.
OUTCOME_EVENT = "queue_tui_outcome"
#: Sent first to a viewer whose `Last-Event-ID` is older than the buffer (or from another
#: run of the relay): it missed events; what the buffer holds follows.
GAP_EVENT = REPLAY_GAP_EVENT
#: Events kept for viewers that reconnect.
REPLAY_KEPT = 2000
#: Healthy while the last good poll is younger than this many intervals.
STALE_INTERVALS = 3


@dataclass(frozen=True, slots=True)
class Emitted:
    """One event as viewers receive it: `id: <run>-<seq>`, `event:`, `data:`."""

    seq: int
    event: str
    data: dict[str, Any]


def hub_event(event: LifecycleEvent) -> tuple[str, dict[str, Any]] | None:
    """The event a final outcome becomes: the hub's completion event (its field names:
    `model`, `url`, `error`) for succeeded and failed, the relay's own for the others."""
    if not event.is_final:
        return None
    gen = event.generation
    data: dict[str, Any] = {
        "generation_id": event.generation_id,
        "status": event.kind.value,
        "media_type": gen.media_type,
        "model": gen.model_name,
    }
    if event.kind is EventKind.SUCCEEDED:
        data["url"] = gen.result_url
        return COMPLETED_EVENT, data
    if event.kind is EventKind.FAILED:
        data["error"] = gen.error_message
        return COMPLETED_EVENT, data
    if event.reason:
        data["reason"] = event.reason
    return OUTCOME_EVENT, data


class EventLog:
    """The events handed to viewers: a bounded buffer to replay from, and one queue per
    open stream. A viewer too slow to keep up is dropped (its queue is closed); it
    reconnects and replays what it missed."""

    def __init__(self, run_id: str, kept: int = REPLAY_KEPT, queue_size: int = 1000) -> None:
        self.run_id = run_id
        self._buffer: deque[Emitted] = deque(maxlen=kept)
        self._seq = itertools.count(1)
        self._subscribers: set[asyncio.Queue[Emitted | None]] = set()
        self._queue_size = queue_size

    def event_id(self, item: Emitted) -> str:
        return f"{self.run_id}-{item.seq}"

    def publish(self, event: str, data: dict[str, Any]) -> Emitted:
        item = Emitted(next(self._seq), event, data)
        self._buffer.append(item)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.get_nowait()
                    queue.put_nowait(None)  # the end of this viewer's stream
        return item

    def subscribe(self) -> asyncio.Queue[Emitted | None]:
        queue: asyncio.Queue[Emitted | None] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Emitted | None]) -> None:
        self._subscribers.discard(queue)

    @property
    def viewers(self) -> int:
        return len(self._subscribers)

    def since(self, last_event_id: str | None) -> tuple[list[Emitted], bool]:
        """(events after `last_event_id`, whether some it missed are gone: the id is
        older than the buffer or from another run). No id: nothing to replay."""
        if not last_event_id:
            return [], False
        run, _, seq_text = last_event_id.strip().rpartition("-")
        buffered = list(self._buffer)
        if run != self.run_id or not seq_text.isdigit():
            return buffered, True
        seq = int(seq_text)
        after = [item for item in buffered if item.seq > seq]
        oldest = buffered[0].seq if buffered else seq + 1
        # Complete when the next event the viewer needs is still here (or not yet sent).
        return after, seq + 1 < oldest


class Upstream:
    """What the relay's own view does not cover, asked of the hub: one request per
    distinct query in flight, its answer shared for `ttl` seconds."""

    def __init__(self, ttl: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[tuple[Any, ...], tuple[float, asyncio.Future[Any]]] = {}

    async def ask(self, key: tuple[Any, ...], fetch: Callable[[], Awaitable[Any]]) -> Any:
        now = self._monotonic()
        hit = self._cache.get(key)
        if hit is not None and (not hit[1].done() or now - hit[0] < self.ttl):
            return await asyncio.shield(hit[1])
        if len(self._cache) > 256:
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl}
        future: asyncio.Future[Any] = asyncio.ensure_future(fetch())
        self._cache[key] = (now, future)
        try:
            return await asyncio.shield(future)
        except QueueError:
            # A fault is not kept: the next viewer asks again (the TTL still paces it,
            # as long as the request was in flight).
            self._cache.pop(key, None)
            raise


class Relay:
    """The relay's one poller, tracker and watcher, and what viewers are answered from.

    Attributes for the app and tests: `tracker`, `watcher`, `poller`, `metrics`, `log`
    (the `EventLog`), `last_rows` (the hub's last page), `last_good` (unix time of the
    last good poll, None before), `last_error` (the last poll's fault, None after a good
    one)."""

    def __init__(
        self,
        client: QueueClient,
        *,
        filters: QueueFilters,
        interval: float,
        linger: float,
        resolve_limit: float,
        events: bool = True,
        clock: Callable[[], float] = time.time,
        run_id: str | None = None,
    ) -> None:
        self.client = client
        self.filters = filters.with_(search=None)
        self.interval = interval
        self.clock = clock
        self.metrics = RelayMetrics()
        self.tracker = Tracker(linger=linger, clock=clock)
        self.watcher = LifecycleWatcher(
            client,
            self.tracker,
            interval,
            events=events,
            clock=clock,
            backfill=True,
            resolve_limit=resolve_limit,
        )
        self.poller = Poller(client, self.filters, interval=interval)
        self.log = EventLog(run_id or f"{int(time.time() * 1000):x}")
        self.upstream = Upstream(ttl=interval)
        self.last_rows: list[Generation] = []
        self.last_good: float | None = None
        self.last_error: QueueError | None = None
        self.polls = 0

    # -- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll and stream until cancelled."""
        stream = asyncio.create_task(
            self.watcher.run_event_stream(self._on_events, on_state=self._on_stream_state)
        )
        try:
            await self.poller.run(self._on_poll)
        finally:
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stream

    async def _on_poll(self, outcome: Snapshot | PollFailed) -> None:
        metrics = self.metrics
        metrics.upstream_requests.labels("poll").inc()
        if isinstance(outcome, PollFailed):
            self.last_error = outcome.error
            metrics.poll_errors.labels(outcome.error.kind).inc()
            return
        result = outcome.result
        self.polls += 1
        self.last_rows = list(result.page.generations)
        self.last_good = result.fetched_at
        self.last_error = None
        metrics.poll_duration.observe(result.latency)
        metrics.last_good_poll.set(result.fetched_at)
        metrics.observe_queue(self.last_rows, self.clock())
        before = self.watcher.status_queries + self.watcher.gets
        events = await self.watcher.handle_snapshot(outcome)
        asked = self.watcher.status_queries + self.watcher.gets - before
        if asked:
            metrics.upstream_requests.labels("outcomes").inc(asked)
        self._on_events(events)

    def _on_events(self, events: Iterable[LifecycleEvent]) -> None:
        events = list(events)
        self.metrics.observe_events(events)
        for event in events:
            emitted = hub_event(event)
            if emitted is not None:
                self.log.publish(*emitted)

    def _on_stream_state(self, state: EventsState) -> None:
        self.metrics.event_stream_connected.set(1 if state is EventsState.LIVE else 0)

    # -- health ----------------------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        """(healthy, why): healthy while the last good poll is fresher than
        `STALE_INTERVALS` intervals."""
        limit = STALE_INTERVALS * self.interval
        if self.last_good is None:
            why = "no good poll of the hub yet"
            if self.last_error is not None:
                why += f": {self.last_error.message}"
            return False, why
        # `fetched_at` is wall time whatever clock the rows are read on (a replay's).
        age = max(0.0, time.time() - self.last_good)
        if age > limit:
            why = f"last good poll of the hub {age:.0f}s ago (limit {limit:g}s)"
            if self.last_error is not None:
                why += f": {self.last_error.message}"
            return False, why
        return True, f"last good poll {age:.1f}s ago"

    def upstream_note(self) -> str:
        """The relay's link to the hub in a few words, for viewers' status bars (the
        `RELAY_UPSTREAM_HEADER` of every answer): `RELAY_UPSTREAM_OK` while the last poll
        was good, else how old the rows are and the fault's kind (a fixed word: no hub
        text, no token)."""
        error = self.last_error
        if self.last_good is None:
            return "no answer yet" + (f" ({error.kind})" if error is not None else "")
        if error is None:
            return RELAY_UPSTREAM_OK
        age = max(0.0, time.time() - self.last_good)
        return f"stale {age:.0f}s ({error.kind})"

    # -- answers ---------------------------------------------------------------------------

    def covers(self, asked: QueueFilters) -> bool:
        """Whether the relay's view holds every row `asked` lists: each of its filters
        is unset or the same as asked, and it polls the active queue (or that status)."""
        mine = self.filters
        for spec in SERVER_SPECS:
            value = getattr(mine, spec.name)
            if value is not None and value != getattr(asked, spec.name):
                return False
        return True

    def answer_list(self, asked: QueueFilters) -> list[Generation]:
        """The rows `GET /api/ai/queue` lists under `asked` (which `covers` holds): the
        hub's last page for the active view, the finished rows the relay has seen (while
        they linger, and its history) for a terminal `status=`."""
        status = asked.status
        if status is None or status in ACTIVE_STATUSES:
            return [g for g in self.last_rows if asked.matches(g)]
        if self.filters.status is not None:
            # The relay polls that terminal list itself: the hub's last page is the answer.
            return [g for g in self.last_rows if asked.matches(g)]
        seen: dict[str, Generation] = {}
        for t in self.tracker.tracked():
            if t.state is RowState.FINISHED and t.generation.status == status:
                seen[t.generation_id] = t.generation
        for gen in self.tracker.history:
            if gen.status == status:
                seen.setdefault(gen.generation_id, gen)
        return [g for g in seen.values() if asked.matches(g)]

    def known(self, generation_id: str) -> Generation | bool | None:
        """`GET /api/ai/queue/{id}` from the relay's state: the row while queued, running
        or being resolved (its last listed status), the final row once finished; False
        for an outcome nobody could tell (the hub's 404 for a row no longer queued);
        None when the relay has not seen it (ask the hub)."""
        t = self.tracker.get(generation_id)
        if t is not None:
            if t.state is RowState.FINISHED and t.generation.status == UNKNOWN_STATUS:
                return False
            return t.generation
        for gen in self.tracker.history:
            if gen.generation_id == generation_id:
                return gen
        return None

    async def fetch_upstream(self, asked: QueueFilters) -> list[Generation]:
        async def fetch() -> list[Generation]:
            self.metrics.upstream_requests.labels("viewer-list").inc()
            return list((await self.client.fetch(asked)).page.generations)

        return await self.upstream.ask(("list", *asked.server_key()), fetch)

    async def get_upstream(self, generation_id: str) -> Generation | None:
        async def fetch() -> Generation | None:
            self.metrics.upstream_requests.labels("viewer-get").inc()
            return await self.client.get(generation_id)

        return await self.upstream.ask(("get", generation_id), fetch)

    def stale_for(self) -> float:
        """Seconds since the last good poll (inf: none yet)."""
        return math.inf if self.last_good is None else time.time() - self.last_good


__all__ = [
    "GAP_EVENT",
    "OUTCOME_EVENT",
    "REPLAY_KEPT",
    "STALE_INTERVALS",
    "Emitted",
    "EventLog",
    "Relay",
    "Upstream",
    "hub_event",
]
