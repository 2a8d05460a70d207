"""Start-up history: the hub's finished rows seed stats, ETAs and depth at once."""

from __future__ import annotations

import httpx
import pytest

from queue_tui.api.client import QueueClient
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation
from queue_tui.config import Settings
from queue_tui.core.outcomes import LifecycleWatcher
from queue_tui.core.stats import compute_stats
from queue_tui.core.tracker import Tracker
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator

NOW = 1_800_000_000.0


def row(
    gid: str,
    status: str,
    enq: float,
    start: float | None,
    done: float | None,
    model: str = "flux-1-dev",
) -> Generation:
    return Generation(
        generation_id=gid,
        model_name=model,
        media_type="image",
        status=status,
        enqueued_at=enq,
        started_at=start,
        completed_at=done,
    )


def test_add_history_keeps_finished_rows_only_and_sets_since() -> None:
    tracker = Tracker(clock=lambda: NOW)
    added = tracker.add_history(
        [
            row("a", "succeeded", NOW - 600, NOW - 590, NOW - 580),
            row("b", "failed", NOW - 300, NOW - 200, NOW - 100),
            row("c", "queued", NOW - 50, None, None),  # not finished: ignored
            row("d", "succeeded", NOW - 50, NOW - 40, None),  # no completion: ignored
        ]
    )
    assert added == 2
    assert [g.generation_id for g in tracker.history] == ["a", "b"]
    assert tracker.history_since == NOW - 580
    assert len(tracker) == 0  # history is not table rows
    assert tracker.add_history([row("a", "succeeded", 0, 1, 2)]) == 0  # no duplicates


def test_rebuilt_depth_counts_queued_and_processing_from_timestamps() -> None:
    tracker = Tracker(clock=lambda: NOW)
    # Queued from -900 to -300, then processing until -120.
    tracker.add_history([row("a", "succeeded", NOW - 900, NOW - 300, NOW - 120)])
    samples = {round(NOW - s.at): s for s in tracker.depth_history}
    assert samples[600].queued == 1 and samples[600].processing == 0
    assert samples[240].queued == 0 and samples[240].processing == 1
    assert samples[60].queued == 0 and samples[60].processing == 0
    assert samples[600].by_model == {"flux-1-dev": 1}


def test_stats_cover_the_backfilled_window() -> None:
    tracker = Tracker(clock=lambda: NOW)
    tracker.add_history(
        [
            row(f"r{i}", "succeeded", NOW - 590 + i * 60, NOW - 580 + i * 60, NOW - 570 + i * 60)
            for i in range(10)
        ]
    )
    stats = compute_stats(tracker, NOW)
    # 10 completions over the 570 s the history covers, not over the (60 s minimum)
    # this session has been watching, which would claim 10 a minute.
    assert stats.overall.completions_per_min == pytest.approx(10 / (570 / 60))


async def test_watcher_backfills_once_per_view_after_the_first_poll() -> None:
    clock = FakeClock(1_795_000_000.0)
    sim = QueueSimulator(seed=7, clock=clock)
    seen: list[dict[str, str]] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(dict(request.url.params))

    client = QueueClient(
        Settings(host="http://demo.test"),
        transport=httpx.ASGITransport(app=create_app(sim, events=False)),
    )
    client.http.event_hooks["request"] = [hook]
    tracker = Tracker(clock=clock)
    watcher = LifecycleWatcher(client, tracker, 2.0, events=False, clock=clock, backfill=True)
    async with client:
        await watcher.handle_snapshot(await client.fetch(QueueFilters()))
        assert {p.get("status") for p in seen} == {None, "succeeded", "failed", "cancelled"}
        assert len(tracker.history) > 0
        assert compute_stats(tracker, clock()).overall.completions_per_min > 0
        requests = len(seen)
        clock.advance(2)
        await watcher.handle_snapshot(await client.fetch(QueueFilters()))
        assert not [p for p in seen[requests:] if p.get("status") == "cancelled"], (
            "the same view is not backfilled twice"
        )
        video = QueueFilters(media_type="video")
        await watcher.handle_snapshot(await client.fetch(video))
        assert {"media_type": "video", "status": "succeeded"} in seen


async def test_watcher_without_backfill_sends_no_history_queries() -> None:
    clock = FakeClock(1_795_000_000.0)
    sim = QueueSimulator(seed=7, clock=clock)
    client = QueueClient(
        Settings(host="http://demo.test"),
        transport=httpx.ASGITransport(app=create_app(sim, events=False)),
    )
    tracker = Tracker(clock=clock)
    watcher = LifecycleWatcher(client, tracker, 2.0, events=False, clock=clock)
    async with client:
        await watcher.handle_snapshot(await client.fetch(QueueFilters()))
    assert tracker.history == [] and watcher.status_queries == 0
