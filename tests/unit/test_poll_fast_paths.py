"""The per-poll fast paths give the same answers as the plain versions they replaced.

`Tracker.observe` handles a row in flight that is listed again inline and counts the
depth sample on the way; `compute_stats` gathers every model in one pass and sums
them for the overall figures; ETAs sort by C-level keys; `normalise_error` is cached.
Each is checked against a straightforward reference, on random timelines as well as on
the cases a shortcut could get wrong (a changed row among unchanged ones).
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation
from queue_tui.core.stats import (
    ModelStats,
    _etas,
    compute_stats,
    normalise_error,
    percentile,
)
from queue_tui.core.tracker import DepthSample, EventKind, RowState, Tracker

T0 = 1_764_000_000.0
MODELS = ("flux-1-dev", "veo-3-fast", "wan")


def gen(gid: str, status: str = "queued", **fields: Any) -> Generation:
    data: dict[str, Any] = {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": status,
        "enqueued_at": T0 - 60,
    }
    if status != "queued":
        data["started_at"] = T0 - 30
    data.update(fields)
    return Generation.model_validate(data)


def reference_depth(tracker: Tracker, now: float) -> DepthSample:
    """The depth sample as it was taken before: a scan of every tracked row."""
    queued = processing = 0
    by_model: dict[str, int] = {}
    for t in tracker.tracked():
        if t.state is not RowState.ACTIVE:
            continue
        status = t.generation.status
        if status == "processing":
            processing += 1
        elif status in ("queued", "in_progress"):
            queued += 1
            by_model[t.generation.model_name] = by_model.get(t.generation.model_name, 0) + 1
    return DepthSample(now, queued, processing, by_model)


# -- the tracker's inline path for rows listed again ----------------------------------------


def test_a_changed_row_among_unchanged_ones_is_noticed() -> None:
    tracker = Tracker(clock=lambda: T0)
    rows = [gen(f"r{i}") for i in range(50)]
    tracker.observe(rows, T0)
    again = list(rows)
    again[17] = gen("r17", "processing", started_at=T0 + 1)
    events = tracker.observe(again, T0 + 2)
    assert [(e.kind, e.generation_id) for e in events] == [(EventKind.STARTED, "r17")]
    assert events[0].generation is again[17]
    assert tracker.get("r17").generation is again[17]  # type: ignore[union-attr]
    # Unchanged rows keep the newest object and their sighting times.
    t = tracker.get("r3")
    assert t is not None and t.generation is again[3] and t.last_seen == T0 + 2
    assert t.first_seen == T0 and t.in_view


def test_a_row_that_already_ran_is_not_started_again() -> None:
    tracker = Tracker(clock=lambda: T0)
    # Queued again after it had started (the hub restarted it): no second STARTED.
    tracker.observe([gen("a", "queued", started_at=T0 - 5)], T0)
    assert tracker.observe([gen("a", "processing")], T0 + 2) == []


def test_a_pending_row_listed_again_is_active_again_without_an_event() -> None:
    tracker = Tracker(clock=lambda: T0)
    tracker.observe([gen("a"), gen("b")], T0)
    tracker.observe([gen("b")], T0 + 2)
    t = tracker.get("a")
    assert t is not None and t.state is RowState.PENDING
    t.resolve_rounds = 3
    assert tracker.observe([gen("a"), gen("b")], T0 + 4) == []
    assert t.state is RowState.ACTIVE and t.vanished_at is None and t.resolve_rounds == 0
    assert t.in_view


def test_a_listed_row_that_finished_takes_the_slow_path() -> None:
    tracker = Tracker(clock=lambda: T0)
    tracker.observe([gen("a", "processing"), gen("b")], T0)
    done = gen("a", "failed", completed_at=T0 + 1, error_message="boom")
    events = tracker.observe([done, gen("b")], T0 + 2)
    assert [(e.kind, e.generation_id) for e in events] == [(EventKind.FAILED, "a")]
    # A finished row is not counted in the depth sample.
    assert tracker.depth_history[-1] == DepthSample(T0 + 2, 1, 0, {"flux-1-dev": 1})


def test_a_dismissed_row_listed_again_stays_dismissed() -> None:
    tracker = Tracker(clock=lambda: T0)
    tracker.observe([gen("a", "succeeded", completed_at=T0)], T0)
    assert tracker.dismiss("a")
    assert tracker.observe([gen("a", "processing")], T0 + 2) == []
    assert "a" not in tracker
    assert tracker.depth_history[-1] == DepthSample(T0 + 2, 0, 0, {})


def test_duplicate_ids_in_a_page_count_once() -> None:
    tracker = Tracker(clock=lambda: T0)
    tracker.observe([gen("a"), gen("a"), gen("b", "processing")], T0)
    assert tracker.depth_history[-1] == DepthSample(T0, 1, 1, {"flux-1-dev": 1})


def random_page(rng: random.Random, ids: list[str], now: float) -> list[Generation]:
    rows = []
    for gid in ids:
        if rng.random() < 0.15:
            continue  # not listed this time
        status = rng.choice(
            ["queued"] * 6 + ["processing"] * 3 + ["in_progress", "succeeded", "failed", "odd"]
        )
        fields: dict[str, Any] = {"model_name": rng.choice(MODELS)}
        if status in ("succeeded", "failed"):
            fields["completed_at"] = now - rng.uniform(0, 5)
        if status == "queued" and rng.random() < 0.5:
            fields["started_at"] = None
        rows.append(gen(gid, status, **fields))
    if rows and rng.random() < 0.3:
        rows.append(rows[0])  # a duplicate
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_depth_sample_matches_a_scan_of_every_row_on_random_polls(seed: int) -> None:
    rng = random.Random(seed)
    tracker = Tracker(linger=10.0, history_cap=40, clock=lambda: T0)
    ids = [f"g{i}" for i in range(60)]
    now = T0
    filters = QueueFilters()
    for poll in range(30):
        now += 2
        if poll % 7 == 6:
            filters = (
                QueueFilters(model=rng.choice(MODELS)) if filters.model is None else QueueFilters()
            )
        page = random_page(rng, rng.sample(ids, 45), now)
        if filters.model:
            page = [g for g in page if g.model_name == filters.model]
        if poll % 5 == 4:
            tracker.watch(rng.choice(ids))
        if poll % 9 == 8 and page:
            tracker.dismiss(page[0].generation_id)
        tracker.observe(page, now, filters=filters)
        # Every row the poll left ACTIVE is one it listed.
        listed = {g.generation_id for g in page}
        for t in tracker.tracked():
            if t.state is RowState.ACTIVE:
                assert t.generation_id in listed and t.in_view
        assert tracker.depth_history[-1] == reference_depth(tracker, now)


def test_a_terminal_status_view_takes_no_depth_sample() -> None:
    tracker = Tracker(clock=lambda: T0)
    failed = QueueFilters(status="failed")
    tracker.observe([gen("a", "failed", completed_at=T0)], T0, filters=failed)
    assert tracker.depth_history == []


# -- compute_stats: one pass, overall = the sum of the models --------------------------------


def reference_model_stats(
    model: str | None,
    active: list[Generation],
    finished: list[Generation],
    now: float,
    window: float,
    throughput_window: float,
    covered: float,
) -> ModelStats:
    """The per-model figures as they were computed before: one scan per figure."""

    def within(ts: float | None, w: float) -> bool:
        return ts is not None and now - w <= ts <= now + 60.0

    waits = [
        max(0.0, g.started_at - g.enqueued_at)
        for g in (*active, *finished)
        if g.started_at is not None and g.enqueued_at is not None and within(g.started_at, window)
    ]
    in_window = [g for g in finished if within(g.completed_at, window)]
    runs = [
        max(0.0, g.completed_at - g.started_at)  # type: ignore[operator]
        for g in in_window
        if g.status in ("succeeded", "failed") and g.started_at is not None
    ]
    succeeded = sum(1 for g in in_window if g.status == "succeeded")
    failed = sum(1 for g in in_window if g.status == "failed")
    recent = sum(
        1
        for g in finished
        if g.status in ("succeeded", "failed") and within(g.completed_at, throughput_window)
    )
    return ModelStats(
        model=model,
        queued=sum(1 for g in active if g.status in ("queued", "in_progress")),
        processing=sum(1 for g in active if g.status == "processing"),
        active=len(active),
        wait_p50=percentile(waits, 50),
        wait_p95=percentile(waits, 95),
        run_p50=percentile(runs, 50),
        run_p95=percentile(runs, 95),
        completions_per_min=recent / (covered / 60.0),
        recent_completions=recent,
        succeeded=succeeded,
        failed=failed,
        cancelled=sum(1 for g in in_window if g.status == "cancelled"),
        failure_rate=failed / (succeeded + failed) if succeeded + failed else None,
        wait_samples=len(waits),
        run_samples=len(runs),
    )


def random_rows(rng: random.Random, n: int, now: float) -> list[Generation]:
    def ts(lo: float, hi: float) -> float | None:
        return None if rng.random() < 0.1 else now + rng.uniform(lo, hi)

    rows = []
    for i in range(n):
        status = rng.choice(
            ["queued", "processing", "in_progress", "odd", "succeeded", "failed", "cancelled"]
        )
        fields: dict[str, Any] = {
            "model_name": rng.choice(MODELS),
            "enqueued_at": ts(-4000, 0),
            "started_at": ts(-3000, 90),  # some beyond the skew allowance
        }
        if status in ("succeeded", "failed", "cancelled"):
            fields["completed_at"] = ts(-2500, 120)
            fields["error_message"] = f"CUDA out of memory: tried {rng.randint(1, 9)} GiB"
        rows.append(gen(f"g{i:04d}", status, **fields))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_stats_match_one_scan_per_figure_on_random_rows(seed: int) -> None:
    rng = random.Random(seed)
    now = T0
    rows = random_rows(rng, 400, now)
    stats = compute_stats(rows, now, since=now - 300)
    active = [g for g in rows if g.is_active]
    finished = [g for g in rows if g.is_terminal]
    covered = 300.0
    for model in MODELS:
        expected = reference_model_stats(
            model,
            [g for g in active if g.model_name == model],
            [g for g in finished if g.model_name == model],
            now,
            1800.0,
            600.0,
            covered,
        )
        assert stats.by_model[model] == expected
    assert stats.overall == reference_model_stats(
        None, active, finished, now, 1800.0, 600.0, covered
    )
    assert list(stats.by_model) == sorted(MODELS)
    # Failures grouped: the failed rows completed in the window or without a time.
    grouped = sum(group.count for group in stats.failure_groups)
    assert grouped == sum(
        1
        for g in finished
        if g.status == "failed"
        and (g.completed_at is None or now - 1800 <= g.completed_at <= now + 60)
    )


def test_stats_of_a_tracker_read_its_active_rows_only() -> None:
    tracker = Tracker(clock=lambda: T0)
    tracker.observe([gen("a"), gen("b", "processing"), gen("c")], T0)
    tracker.observe([gen("b", "processing"), gen("c")], T0 + 2)  # a is pending now
    stats = compute_stats(tracker, T0 + 2)
    assert (stats.overall.queued, stats.overall.processing, stats.overall.active) == (1, 1, 2)


# -- ETAs ------------------------------------------------------------------------------------


def reference_etas(
    active: list[Generation], by_model: dict[str, ModelStats], now: float, min_completions: int
) -> dict[str, float]:
    etas: dict[str, float] = {}
    queues: dict[str, list[Generation]] = {}
    for g in active:
        stats = by_model.get(g.model_name)
        if stats is None:
            continue
        if g.status == "processing":
            if stats.run_p50 is not None and g.started_at is not None:
                etas[g.generation_id] = max(0.0, stats.run_p50 - max(0.0, now - g.started_at))
        elif g.status == "queued":
            queues.setdefault(g.model_name, []).append(g)
    for model, rows in queues.items():
        stats = by_model[model]
        rate = stats.completions_per_min
        if not rate or stats.recent_completions < min_completions:
            continue
        rows.sort(key=lambda g: (g.enqueued_at is None, g.enqueued_at or 0.0, g.generation_id))
        for position, g in enumerate(rows, start=1):
            etas[g.generation_id] = position / (rate / 60.0) + (stats.run_p50 or 0.0)
    return etas


def test_queue_position_ties_break_by_id_and_rows_without_enqueued_at_come_last() -> None:
    rows = [
        gen("d", enqueued_at=None),
        gen("c", enqueued_at=T0 - 10),
        gen("b", enqueued_at=T0 - 10),
        gen("a", enqueued_at=None),
        gen("e", enqueued_at=T0 - 20),
    ]
    by_model = {
        "flux-1-dev": ModelStats("flux-1-dev", completions_per_min=6.0, recent_completions=5)
    }
    etas = _etas(rows, by_model, T0, 3)
    assert sorted(etas, key=etas.__getitem__) == ["e", "b", "c", "a", "d"]
    assert etas["e"] == pytest.approx(10.0)  # first in line at 6 per minute
    assert etas == reference_etas(rows, by_model, T0, 3)


@pytest.mark.parametrize("seed", range(4))
def test_etas_match_the_plain_sort_on_random_rows(seed: int) -> None:
    rng = random.Random(seed)
    rows = [g for g in random_rows(rng, 300, T0) if g.is_active]
    by_model = {
        "flux-1-dev": ModelStats(
            "flux-1-dev", completions_per_min=4.0, recent_completions=9, run_p50=30.0
        ),
        "veo-3-fast": ModelStats("veo-3-fast", completions_per_min=0.5, recent_completions=2),
    }  # "wan" has no stats: no ETA
    etas = _etas(rows, by_model, T0, 3)
    assert etas == reference_etas(rows, by_model, T0, 3)
    assert not any(g.model_name == "wan" and g.generation_id in etas for g in rows)
    assert any(g.model_name == "flux-1-dev" and g.status == "queued" for g in rows)


# -- failure grouping ------------------------------------------------------------------------


def test_normalise_error_gives_the_same_key_from_its_cache() -> None:
    message = "CUDA out of memory at /opt/models/x.bin: tried 2.50 GiB"
    first = normalise_error(message)
    assert normalise_error(message) == first == "CUDA out of memory at <path>: tried <n> GiB"
    assert normalise_error("something else entirely") != first
    assert normalise_error(None) == normalise_error("") == "(no message)"


def test_eta_window_bounds_are_the_same_floats_as_before() -> None:
    # A row started exactly at the window's edge counts (closed interval both ends).
    now = T0
    rows = [
        gen("a", "processing", enqueued_at=now - 1810, started_at=now - 1800.0),
        gen("b", "processing", enqueued_at=now - 100, started_at=now + 60.0),
        gen("c", "processing", enqueued_at=now - 100, started_at=now + 60.5),
    ]
    stats = compute_stats(rows, now)
    assert stats.overall.wait_samples == 2
    assert math.isclose(stats.overall.wait_p50 or 0, (10 + 160) / 2)


def test_a_start_before_the_enqueue_is_a_zero_wait_not_a_negative_one() -> None:
    rows = [
        gen("a", "processing", enqueued_at=T0 - 10, started_at=T0 - 40),
        gen("b", "succeeded", enqueued_at=T0 - 10, started_at=T0 - 40, completed_at=T0 - 50),
    ]
    stats = compute_stats(rows, T0)
    assert stats.overall.wait_p50 == stats.overall.wait_p95 == 0.0
    assert stats.overall.run_p50 == 0.0


# -- the dashboard's ETA texts and row marks -------------------------------------------------


@pytest.mark.parametrize(
    "seconds",
    [
        *(None, math.nan, math.inf, -math.inf, -5.0, 0.0, 29.9, 59.99, 60.0, 89.9, 90.0),
        *(91.0, 149.0, 5_969.0, 5_971.0, 6_000.0, 172_000.0, 1e7, 1e12),
    ],
)
def test_eta_text_is_short_eta(seconds: float | None) -> None:
    from queue_tui.core.dashboard import _eta_text, short_eta

    assert _eta_text(seconds) == short_eta(seconds)
    assert _eta_text(seconds) == short_eta(seconds)  # from the cache the second time


def test_eta_text_cache_stays_bounded() -> None:
    from queue_tui.core import dashboard

    for minutes in range(dashboard._ETA_TEXTS_MAX + 10):
        dashboard._eta_text(60.0 * (minutes + 1))
    assert len(dashboard._ETA_TEXTS) <= dashboard._ETA_TEXTS_MAX
