"""An all-day run keeps bounded state: once its windows are full, nothing grows.

Eight simulated hours of the chaos demo go through the core on a FakeClock: the embedded
demo hub's simulator (`QueueSimulator.embedded`, as `--demo` builds it, at half its
arrival rate) behind the chaos
middleware (every fault but the stall, which would cost real time), the in-process
streaming transport, `QueueClient`, `Poller.poll_once`, and the dashboard's own model
(`DashboardModel`: its `Tracker` and `LifecycleWatcher` with the history backfill, status
queries and get-by-id; statistics, rows, toasts and their pacing at 80x24), each poll
handled as the app handles it, completion events fed as its event stream feeds them.

Every simulated hour, each piece of state is checked against its window or count (what
fell out of it is gone), and the memory still allocated is counted (pymalloc blocks after
a full collection: objects and strings alike, at no cost per allocation, unlike
tracemalloc, which made the run seven times slower). The hub's load follows slow waves,
so hours 6-8 are compared with hours 2-4, not one hour with the next. Polls are a minute
of simulated time apart: 480 polls, 5-6 s.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.client import LAST_PAGES, QueueClient
from queue_tui.api.models import Generation
from queue_tui.config import DEFAULT_RESOLVE_LIMIT, DEMO_HOST, Settings
from queue_tui.core.dashboard import ANNOUNCED_KEPT, COMPACT_TOASTS, DashboardModel, Toast
from queue_tui.core.outcomes import EventsState
from queue_tui.core.poller import Poller, PollFailed, Snapshot
from queue_tui.core.tracker import (
    DEPTH_WINDOW,
    STATS_WINDOW,
    RowState,
    Tracker,
)
from queue_tui.demo.chaos import FAULTS
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import (
    EMBEDDED_MAX_TERMINAL,
    EMBEDDED_RETENTION,
    TERMINAL_STATUSES,
    QueueSimulator,
)

START = 1_764_000_000.0
INTERVAL = 60.0
HOURS = 8
LINGER = 600.0
#: The demo's workload at half its arrival rate (~1,500 finished rows an hour, not
#: ~3,000): every resolution round reads the hub's finished rows, and eight hours of them
#: then take seconds. The windows, not the rate, bound what is kept.
ARRIVAL_SHARE = 0.5
#: The terminal the dashboard's toasts are paced for.
SIZE = (80, 24)
#: Memory blocks still allocated may differ this much between the highest of hours 2-4
#: and the highest of hours 6-8 (measured: +260; from hour 4 on they move by under 1,500
#: with the load). Unbounded state grows faster: with the hub's own 24 h of finished
#: rows, +51,000 (about 13,000 blocks an hour).
BLOCKS_GROWTH_MAX = 20_000


def test_eight_hours_of_the_chaos_demo_keep_bounded_state() -> None:
    # Allocated blocks are counted process-wide: the run goes in a fresh interpreter, so
    # nothing an earlier test left in this worker (threads, caches) is counted with it.
    code = (
        "import asyncio, json; from tests.unit.test_long_run_memory import soak; "
        "print(json.dumps(asyncio.run(soak())))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=110,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    blocks = {int(hour): n for hour, n in json.loads(run.stdout.splitlines()[-1]).items()}
    early = max(blocks[h] for h in (2, 3, 4))
    late = max(blocks[h] for h in (6, 7, 8))
    assert late - early < BLOCKS_GROWTH_MAX, blocks


async def soak() -> dict[int, int]:
    """The eight hours; checks every window each hour, returns allocated blocks per hour."""
    clock = FakeClock(START)
    arrivals = QueueSimulator(warmup=0).default_arrival_rate * ARRIVAL_SHARE
    sim = QueueSimulator.embedded(seed=11, clock=clock, arrival_rate=arrivals)
    quiet_faults = tuple(f for f in FAULTS if f != "stall")
    app = create_app(sim, events=False, chaos=0.2, chaos_faults=quiet_faults)
    settings = Settings(host=DEMO_HOST, interval=INTERVAL, linger=LINGER)
    client = QueueClient(settings, transport=StreamingASGITransport(app))
    model = DashboardModel(settings, client, clock)
    # As with the dashboard's event stream connected: completions arrive through the
    # watcher, and a row that vanishes gets a round of grace for its event.
    model.watcher.events_state = EventsState.LIVE
    events = sim.subscribe()
    poller = Poller(client, settings.filters, interval=INTERVAL, monotonic=clock)
    blocks: dict[int, int] = {}
    polls_per_hour = round(3600 / INTERVAL)
    failed_polls = error_toasts = 0
    observed_at = START
    try:
        async with client:
            for poll in range(1, HOURS * polls_per_hour + 1):
                clock.advance(INTERVAL)
                sim.advance()
                now = clock()
                while not events.empty():
                    model.queue_events(model.watcher.apply_payload(events.get_nowait()))
                # One poll as the app's poll worker and its UI handle it.
                toasts: list[Toast] = []
                outcome = await poller.poll_once()
                if isinstance(outcome, Snapshot):
                    observed_at = now
                    model.observe_snapshot(outcome)
                    toasts += model.page_shown(outcome)
                    model.refresh_stats(now)
                    model.rows(now)
                    toasts += model.announce(now, SIZE)
                    await model.follow_up(outcome)
                    model.rows(now)
                    toasts += model.announce(now, SIZE)
                elif isinstance(outcome, PollFailed):
                    failed_polls += 1
                    toasts += model.page_failed(outcome)
                toasts += model.tick(now, SIZE)[1]
                error_toasts += sum(t.severity == "error" for t in toasts)
                hour, rest = divmod(poll, polls_per_hour)
                if rest == 0:
                    assert_within_windows(observed_at, sim, client, model)
                    gc.collect()
                    blocks[hour] = sys.getallocatedblocks()
    finally:
        sim.unsubscribe(events)

    assert 0 < failed_polls < poller.requests / 2, "chaos faults, and polls that survived them"
    assert error_toasts > 100, "failures were told (paced) all along"
    return blocks


def assert_within_windows(
    observed_at: float, sim: QueueSimulator, client: QueueClient, model: DashboardModel
) -> None:
    """Everything kept is inside its window or under its count: what fell out is gone
    (the tracker lets go at each poll it observes, the last at `observed_at`)."""
    now = observed_at
    tracker, watcher, gate = model.tracker, model.watcher, model.toast_gate
    # Tracker: rows in flight, and finished ones for the linger only (or while the last
    # page still listed them: chaos lists its hostile rows again and again).
    for t in tracker.tracked():
        if t.state is RowState.FINISHED and not t.in_view:
            assert t.finished_at is not None and now - t.finished_at <= LINGER
    # History: the statistics' window (a row learnt late, its outcome found after up to
    # the resolve limit, leaves as late).
    history = tracker.history
    assert history, "the statistics have finished rows"
    late = STATS_WINDOW + DEFAULT_RESOLVE_LIMIT
    assert all(now - (g.completed_at or 0.0) <= late for g in history)
    depth = tracker.depth_history
    assert all(now - s.at <= DEPTH_WINDOW for s in depth)
    assert len(depth) <= DEPTH_WINDOW / INTERVAL + 1
    # Client: the last page of the few views polled.
    assert len(client._last_pages) <= LAST_PAGES
    # Watcher: what the sources said of rows unresolved at its last round, no others.
    tracked = {t.generation_id for t in tracker.tracked()}
    assert set(watcher._evidence) <= tracked | set(tracker.unseen_watched())
    # Toasts: held only while the gap runs (at most the failures of one gap); the
    # events told, the last few hundred.
    assert sum(len(held) for held in gate.held.values()) <= COMPACT_TOASTS.gap * 10
    assert len(model.announced) <= ANNOUNCED_KEPT
    # The embedded hub: finished rows for its retention, one event subscriber.
    now = sim.now
    finished = [row for status in TERMINAL_STATUSES for row in sim.list(status=status)]
    assert finished and len(finished) <= EMBEDDED_MAX_TERMINAL
    assert all(now - row["completed_at"] <= EMBEDDED_RETENTION + 1 for row in finished)
    assert len(sim.finished()) <= EMBEDDED_MAX_TERMINAL
    assert sim.subscriber_count == 1


def _finished(gid: str, status: str, completed_at: float | None) -> Generation:
    return Generation(
        generation_id=gid,
        model_name="flux-1-dev",
        media_type="image",
        status=status,
        enqueued_at=START - 7200,
        started_at=START - 7200,
        completed_at=completed_at,
    )


def test_the_history_keeps_the_statistics_window_and_lets_go_of_the_rest() -> None:
    tracker = Tracker(linger=0.0, clock=lambda: START)
    # From the hub's lists at start-up: what finished before the window is not kept,
    # but still says how far back the hub's history reaches (the throughput's span).
    added = tracker.add_history(
        [_finished("old", "succeeded", START - 3600), _finished("recent", "failed", START - 600)],
        START,
    )
    assert added == 1
    assert [g.generation_id for g in tracker.history] == ["recent"]
    assert tracker.history_since == START - 3600
    # Finished while watched: one with the hub's time, one without (observed time kept).
    tracker.observe([_finished("live", "processing", None)], START)
    tracker.apply_outcome("live", "succeeded", START, source="events")
    tracker.observe([_finished("no-time", "failed", None)], START)
    assert {g.generation_id: g.completed_at for g in tracker.history} == {
        "recent": START - 600,
        "live": START,
        "no-time": START,
    }
    tracker.expire(START + STATS_WINDOW - 300)
    assert [g.generation_id for g in tracker.history] == ["live", "no-time"]
    tracker.expire(START + STATS_WINDOW + 1)
    assert tracker.history == []
