"""Queue statistics on hand-built timelines with known answers."""

from __future__ import annotations

from typing import Any

import pytest

from queue_tui.api.models import Generation
from queue_tui.core.stats import (
    compute_stats,
    error_headline,
    fmt_eta,
    group_failures,
    normalise_error,
    percentile,
)
from queue_tui.core.tracker import Tracker

NOW = 1_764_000_000.0


def row(gid: str, status: str, **fields: Any) -> Generation:
    data: dict[str, Any] = {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": status,
    }
    data.update(fields)
    return Generation.model_validate(data)


def done(
    gid: str, enq: float, start: float, end: float, status: str = "succeeded", **kw: Any
) -> Generation:
    return row(
        gid, status, enqueued_at=NOW + enq, started_at=NOW + start, completed_at=NOW + end, **kw
    )


# -- percentiles ---------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks() -> None:
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert percentile([10, 0, 5], 0) == 0
    assert percentile([10, 0, 5], 100) == 10


def test_wait_and_run_percentiles_come_from_hub_timestamps() -> None:
    # Waits 10, 20, 30, 40; runs 5, 5, 5, 25.
    rows = [
        done("a", -200, -190, -185),
        done("b", -200, -180, -175),
        done("c", -200, -170, -165),
        done("d", -200, -160, -135),
    ]
    stats = compute_stats(rows, NOW)
    model = stats.by_model["flux-1-dev"]
    assert model.wait_p50 == pytest.approx(25.0)
    assert model.wait_p95 == pytest.approx(38.5)
    assert model.run_p50 == pytest.approx(5.0)
    assert model.run_p95 == pytest.approx(22.0)
    assert (model.wait_samples, model.run_samples) == (4, 4)
    assert stats.overall.wait_p50 == pytest.approx(25.0)


def test_processing_rows_count_toward_wait_but_not_run() -> None:
    rows = [
        row("p", "processing", enqueued_at=NOW - 100, started_at=NOW - 40),
        row("q", "queued", enqueued_at=NOW - 10),
    ]
    model = compute_stats(rows, NOW).by_model["flux-1-dev"]
    assert model.wait_p50 == pytest.approx(60.0)
    assert model.run_p50 is None
    assert (model.queued, model.processing, model.active) == (1, 1, 2)


def test_cancelled_rows_have_no_run_time() -> None:
    rows = [done("c", -100, -90, -80, status="cancelled"), done("s", -100, -90, -60)]
    model = compute_stats(rows, NOW).by_model["flux-1-dev"]
    assert model.run_samples == 1
    assert model.run_p50 == pytest.approx(30.0)
    assert model.cancelled == 1


def test_rows_outside_the_window_are_left_out() -> None:
    rows = [done("old", -4000, -3990, -3900), done("new", -100, -90, -80)]
    model = compute_stats(rows, NOW, window=1800).by_model["flux-1-dev"]
    assert model.run_samples == 1 and model.wait_samples == 1
    assert model.succeeded == 1


# -- throughput and failure rate --------------------------------------------------------------


def test_completions_per_minute_over_the_last_ten_minutes() -> None:
    # 12 completions in the last 10 minutes (2 of them failed), 1 cancelled, 1 older.
    rows = [done(f"s{i}", -700, -650, -50 * i) for i in range(1, 11)]
    rows += [done(f"f{i}", -700, -650, -30 * i, status="failed") for i in (1, 2)]
    rows.append(done("c", -700, -650, -20, status="cancelled"))
    rows.append(done("old", -1000, -900, -700))
    model = compute_stats(rows, NOW).by_model["flux-1-dev"]
    assert model.recent_completions == 12
    assert model.completions_per_min == pytest.approx(1.2)
    # The 30 min window: 11 succeeded (with the older one) and 2 failed.
    assert model.failure_rate == pytest.approx(2 / 13)


def test_a_tracker_that_watched_briefly_divides_by_what_it_saw() -> None:
    tracker = Tracker(clock=lambda: NOW)
    tracker.observe([], NOW - 120)  # watching for 2 minutes
    for i in range(4):
        tracker.observe([row(f"g{i}", "processing", started_at=NOW - 100)], NOW - 100)
        tracker.apply_outcome(
            f"g{i}",
            "succeeded",
            NOW - 10,
            source="status-query",
            generation=done(f"g{i}", -110, -100, -10 - i),
        )
    stats = compute_stats(tracker, NOW)
    assert stats.by_model["flux-1-dev"].completions_per_min == pytest.approx(2.0)


def test_failure_rate_is_none_without_completions() -> None:
    stats = compute_stats([row("q", "queued", enqueued_at=NOW - 5)], NOW)
    assert stats.by_model["flux-1-dev"].failure_rate is None


# -- ETA ------------------------------------------------------------------------------------


def test_eta_from_queue_position_and_throughput() -> None:
    # 6 completions in 10 minutes: 0.6/min; each ran 50 s.
    finished = [done(f"s{i}", -700, -90 * i - 60, -90 * i - 10) for i in range(6)]
    queued = [
        row("q1", "queued", enqueued_at=NOW - 30),
        row("q2", "queued", enqueued_at=NOW - 20),
        row("q3", "queued", enqueued_at=NOW - 10),
    ]
    running = row("p", "processing", enqueued_at=NOW - 60, started_at=NOW - 20)
    stats = compute_stats([*finished, *queued, running], NOW)
    model = stats.by_model["flux-1-dev"]
    assert model.completions_per_min == pytest.approx(0.6)
    assert model.run_p50 == pytest.approx(50.0)
    # Position / (0.6 per min) + median run: 100 s + 50 s, 200 + 50, 300 + 50.
    assert stats.eta_for(queued[0]) == pytest.approx(150.0)
    assert stats.eta_for("q2") == pytest.approx(250.0)
    assert stats.eta_for("q3") == pytest.approx(350.0)
    # Processing: median run minus time run so far.
    assert stats.eta_for(running) == pytest.approx(30.0)
    assert fmt_eta(stats.eta_for("q1")) == "~2m"
    assert fmt_eta(stats.eta_for("q3")) == "~6m"


def test_eta_follows_each_models_own_queue() -> None:
    finished = [done(f"s{i}", -700, -300, -60 * i - 10) for i in range(5)]
    other = [
        done(f"v{i}", -700, -300, -120 * i - 10, model_name="veo", media_type="video")
        for i in range(4)
    ]
    rows = [
        *finished,
        *other,
        row("f1", "queued", enqueued_at=NOW - 50),
        row("v1", "queued", enqueued_at=NOW - 60, model_name="veo", media_type="video"),
        row("v2", "queued", enqueued_at=NOW - 40, model_name="veo", media_type="video"),
    ]
    stats = compute_stats(rows, NOW)
    flux, veo = stats.by_model["flux-1-dev"], stats.by_model["veo"]
    assert stats.eta_for("f1") == pytest.approx(60 / flux.completions_per_min + flux.run_p50)
    assert stats.eta_for("v2") == pytest.approx(2 * 60 / veo.completions_per_min + veo.run_p50)


def test_no_eta_while_there_is_too_little_data() -> None:
    rows = [done("s1", -100, -90, -60), row("q", "queued", enqueued_at=NOW - 5)]
    stats = compute_stats(rows, NOW)
    assert stats.eta_for("q") is None
    assert fmt_eta(stats.eta_for("q")) == "—"


def test_fmt_eta() -> None:
    assert fmt_eta(None) == "—"
    assert fmt_eta(20) == "<1m"
    assert fmt_eta(230) == "~4m"
    assert fmt_eta(3900) == "~1h05m"


# -- failure groups ----------------------------------------------------------------------------


OOM = (
    "CUDA out of memory. Tried to allocate {gib} GiB (GPU 0; 79.15 GiB total capacity; "
    "{used} GiB already allocated; {free} MiB free)"
)


def test_oom_failures_with_different_numbers_group_together() -> None:
    failures = [
        done(
            f"oom{i}",
            -300,
            -200,
            -100 + i,
            status="failed",
            error_message=OOM.format(gib=f"{1.25 * (i + 1):.2f}", used=f"7{i}.5", free=200 + i),
        )
        for i in range(12)
    ]
    policy = [
        done(f"pol{i}", -300, -200, -50 + i, status="failed", error_message="Content policy")
        for i in range(3)
    ]
    other_model = done(
        "w",
        -300,
        -200,
        -10,
        status="failed",
        model_name="wan",
        error_message=OOM.format(gib="2.50", used="70.1", free=999),
    )
    groups = group_failures([*failures, *policy, other_model, done("ok", -1, -1, -1)])
    assert [g.count for g in groups] == [13, 3]
    oom = groups[0]
    assert oom.key.startswith("CUDA out of memory. Tried to allocate <n> GiB")
    assert oom.by_model == {"flux-1-dev": 12, "wan": 1}
    assert oom.generation_ids[0] == "w"  # most recent first
    assert oom.example.startswith("CUDA out of memory. Tried to allocate 2.50 GiB")
    stats = compute_stats([*failures, *policy], NOW)
    assert [g.count for g in stats.failure_groups] == [12, 3]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "job 3f2a9c1e-1b2c-4d5e-8f90-123456789abc failed",
            "job 00000000-aaaa-4bbb-8ccc-000000000000 failed",
        ),
        ("bad pointer 0xdeadbeef", "bad pointer 0x1"),
        ("revision 8f14e45fceea167a5a36 missing", "revision 0123456789abcdef0123 missing"),
        (
            "LoRA not found: ox/shots/loras/a.safetensors",
            "LoRA not found: acme/x/loras/b-v2.safetensors",
        ),
        ("open /srv/data/a.bin failed", "open /tmp/b failed"),
        ("see https://hub.oxen.ai/x?y=1", "see http://example.com/"),
        ("rank 3 of 8", "rank 7 of 8"),
    ],
)
def test_normalisation_merges_variable_parts(a: str, b: str) -> None:
    assert normalise_error(a) == normalise_error(b)


def test_normalisation_keeps_different_errors_apart() -> None:
    assert normalise_error("Content policy violation") != normalise_error("Provider timeout")
    assert normalise_error(None) == normalise_error("") == "(no message)"


def test_tracebacks_group_and_show_by_their_exception_line() -> None:
    tb = (
        "Traceback (most recent call last):\n"
        '  File "/srv/worker/{m}.py", line {n}, in run\n'
        "    x()\n"
        "RuntimeError: size of tensor a ({a}) must match b"
    )
    one = tb.format(m="flux", n=10, a=4096)
    two = tb.format(m="sdxl", n=99, a=2048)
    assert normalise_error(one) == normalise_error(two)
    assert normalise_error(one).startswith("RuntimeError: size of tensor a (<n>)")
    assert error_headline(one) == "RuntimeError: size of tensor a (4096) must match b"


def test_hostile_error_text_is_cleaned_in_groups() -> None:
    bad = done("x", -10, -9, -8, status="failed", error_message="\x1b]0;pwn\x07boom [/]\x1b[31m")
    (group,) = group_failures([bad])
    assert "\x1b" not in group.example and "\x07" not in group.example
    assert "boom [/]" in group.example


# -- depth history -------------------------------------------------------------------------------


def test_depth_series_for_the_sparkline() -> None:
    tracker = Tracker(clock=lambda: NOW)
    tracker.observe([row("a", "queued"), row("b", "queued")], NOW - 4)
    tracker.observe([row("a", "queued"), row("b", "processing")], NOW - 2)
    tracker.observe([row("b", "processing")], NOW)
    stats = compute_stats(tracker, NOW)
    assert stats.depth_series() == [2, 1, 0]
    assert stats.depth_series(what="processing") == [0, 1, 1]
    assert stats.depth_series("flux-1-dev") == [2, 1, 0]
    assert stats.depth_series("other") == [0, 0, 0]
