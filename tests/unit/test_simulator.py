"""Unit tests for the deterministic render-queue simulator (no network)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import STATUSES, QueueSimulator

START = 1_764_000_000.0


def make(seed: int = 7, **kwargs) -> tuple[QueueSimulator, FakeClock]:
    clock = FakeClock(START)
    return QueueSimulator(seed, clock, **kwargs), clock


def snapshot(sim: QueueSimulator) -> dict[str, list[dict]]:
    return {status: sim.list(status=status) for status in STATUSES}


def all_rows(sim: QueueSimulator) -> list[dict]:
    return [row for rows in snapshot(sim).values() for row in rows]


def drain(q: asyncio.Queue) -> list[dict]:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


# ---------------------------------------------------------------- clock


def test_fake_clock() -> None:
    clock = FakeClock()
    assert clock() == clock.now == 1_764_000_000.0
    clock.advance(2.5)
    assert clock() == 1_764_000_002.5
    clock.advance(-10)
    assert clock() == 1_764_000_002.5


# ---------------------------------------------------------------- determinism


def test_same_seed_and_clock_give_identical_rows() -> None:
    a, clock_a = make(7)
    b, clock_b = make(7)
    assert snapshot(a) == snapshot(b)
    for step in (1, 2, 7.5, 60, 600):
        clock_a.advance(step)
        clock_b.advance(step)
        assert snapshot(a) == snapshot(b)


def test_different_seeds_differ() -> None:
    a, _ = make(7)
    b, _ = make(8)
    ids_a = {r["generation_id"] for r in all_rows(a)}
    ids_b = {r["generation_id"] for r in all_rows(b)}
    assert ids_a and ids_b and not ids_a & ids_b


def test_background_is_independent_of_advance_granularity() -> None:
    jumpy, clock_j = make(3)
    steady, clock_s = make(3)
    clock_j.advance(900)
    for _ in range(900):
        clock_s.advance(1)
        steady.advance()
    assert snapshot(jumpy) == snapshot(steady)


def test_generation_ids_are_uuid4() -> None:
    sim, _ = make()
    for row in all_rows(sim):
        parsed = uuid.UUID(row["generation_id"])
        assert parsed.version == 4
        assert str(parsed) == row["generation_id"]


# ---------------------------------------------------------------- shape & realism


def test_all_states_present_after_warmup() -> None:
    sim, _ = make()
    counts = {status: len(rows) for status, rows in snapshot(sim).items()}
    assert all(counts[s] > 0 for s in STATUSES), counts
    active = sim.list()
    assert 10 <= len(active) <= 200
    assert {r["status"] for r in active} == {"queued", "processing"}


def test_row_shape_and_timestamps() -> None:
    sim, clock = make()
    now = int(clock())
    for row in all_rows(sim):
        for key in (
            "generation_id",
            "model_name",
            "media_type",
            "status",
            "enqueued_at",
            "started_at",
            "completed_at",
            "error_message",
            "result_url",
            "target_namespace",
            "target_repo",
            "target_directory",
            "prompt",
            "seed",
            "aspect_ratio",
        ):
            assert key in row
        assert row["media_type"] in ("image", "video")
        assert isinstance(row["enqueued_at"], int)
        assert row["enqueued_at"] <= now
        if row["media_type"] == "video":
            assert isinstance(row["duration"], int)
        status = row["status"]
        if status == "queued":
            assert row["started_at"] is None and row["completed_at"] is None
        if status == "processing":
            assert row["started_at"] >= row["enqueued_at"] and row["completed_at"] is None
        if status in ("succeeded", "failed"):
            assert row["enqueued_at"] <= row["started_at"] <= row["completed_at"] <= now
        if status == "cancelled":
            assert row["completed_at"] >= row["enqueued_at"]
        assert (row["error_message"] is not None) == (status == "failed")
        assert (row["result_url"] is not None) == (status == "succeeded")


def test_list_is_ordered_by_enqueued_at() -> None:
    sim, _ = make()
    for rows in [sim.list(), *snapshot(sim).values()]:
        stamps = [r["enqueued_at"] for r in rows]
        assert stamps == sorted(stamps)


def test_realistic_models_urls_errors_and_rates() -> None:
    sim, clock = make(11)
    clock.advance(4 * 3600)
    rows = all_rows(sim)
    by_status = Counter(r["status"] for r in rows)
    finished = by_status["succeeded"] + by_status["failed"] + by_status["cancelled"]
    assert 0.05 <= by_status["failed"] / finished <= 0.11
    assert 0.01 <= by_status["cancelled"] / finished <= 0.05
    cancelled = sim.list(status="cancelled")
    assert sum(r["started_at"] is None for r in cancelled) > len(cancelled) / 2

    models = {r["model_name"] for r in rows}
    assert {"flux-1-dev", "flux-1-schnell", "kling-v2-master", "veo-3-fast"} <= models
    for row in sim.list(status="succeeded"):
        ext = ".mp4" if row["media_type"] == "video" else ".png"
        assert row["result_url"].startswith("https://hub.oxen.ai/api/")
        assert row["result_url"].endswith(ext)
        if row["target_namespace"]:
            folder = f"{row['target_directory']}/" if row["target_directory"] else ""
            expected = (
                f"https://hub.oxen.ai/api/repos/{row['target_namespace']}/{row['target_repo']}"
                f"/file/main/{folder}{row['generation_id'][:8]}{ext}"
            )
            assert row["result_url"] == expected
    errors = [r["error_message"] for r in sim.list(status="failed")]
    assert len(set(errors)) > 8
    assert any("CUDA out of memory" in e for e in errors)
    assert any(e == "Upstream provider timeout after 300s" for e in errors)
    assert any("\n" in e and e.startswith("Traceback") for e in errors)
    assert {r["target_namespace"] for r in rows} >= {"ox", "acme-studio", "lumen"}
    assert None in {r["target_directory"] for r in rows}


def test_queue_depth_changes_over_time() -> None:
    sim, clock = make()
    depths = []
    for _ in range(20):
        clock.advance(120)
        depths.append(len(sim.list()))
    assert max(depths) - min(depths) >= 5
    assert min(depths) > 0


# ---------------------------------------------------------------- progression


def test_states_progress_when_clock_advances() -> None:
    sim, clock = make()
    active = sim.list()
    queued = sim.list(status="queued")
    processing = sim.list(status="processing")
    assert queued and processing
    assert sim.get(processing[0]["generation_id"]) == processing[0]
    clock.advance(3 * 3600)
    final = {
        r["generation_id"] for s in ("succeeded", "failed", "cancelled") for r in sim.list(status=s)
    }
    for row in active:
        assert sim.get(row["generation_id"]) is None
        assert row["generation_id"] in final


def test_time_never_goes_backward() -> None:
    sim, clock = make()
    clock.advance(100)
    sim.advance()
    before = snapshot(sim)
    sim.advance(START - 5000)
    assert sim.now == clock()
    assert snapshot(sim) == before


def test_big_jump_is_cheap_and_memory_bounded() -> None:
    sim, clock = make(max_terminal=2000)
    clock.advance(6 * 3600)
    terminal = sum(len(sim.list(status=s)) for s in ("succeeded", "failed", "cancelled"))
    assert terminal <= 2000
    assert sim.list()


def test_retention_drops_old_terminal_rows() -> None:
    sim, clock = make(retention=600)
    old = {r["generation_id"]: r for s in ("succeeded", "failed") for r in sim.list(status=s)}
    assert old
    for row in old.values():
        assert row["completed_at"] >= int(clock()) - 601
    clock.advance(700)
    remaining = {r["generation_id"] for s in ("succeeded", "failed") for r in sim.list(status=s)}
    assert not remaining & set(old)
    assert remaining  # newer rows are still retained
    for gid in old:
        assert sim.get(gid) is None
        assert sim.cancel(gid) is False


def test_with_active_rows() -> None:
    clock = FakeClock(START)
    sim = QueueSimulator.with_active_rows(500, seed=3, clock=clock)
    rows = sim.list()
    assert len(rows) == 500
    assert {r["status"] for r in rows} == {"queued", "processing"}
    clock.advance(5)
    assert 450 < len(sim.list()) <= 500


# ---------------------------------------------------------------- cancel


def test_cancel_active_row() -> None:
    sim, clock = make()
    row = sim.list(status="queued")[-1]
    gid = row["generation_id"]
    clock.advance(0.5)
    assert sim.cancel(gid) is True
    assert sim.get(gid) is None
    assert gid not in {r["generation_id"] for r in sim.list()}
    cancelled = {r["generation_id"]: r for r in sim.list(status="cancelled")}
    assert cancelled[gid]["completed_at"] == int(clock())
    assert sim.cancel(gid) is False
    assert sim.cancel("00000000-0000-4000-8000-000000000000") is False


def test_cancel_processing_row_frees_a_slot() -> None:
    sim, _ = make()
    processing = sim.list(status="processing")
    assert sim.cancel(processing[0]["generation_id"]) is True
    assert processing[0]["generation_id"] not in {r["generation_id"] for r in sim.list()}


# ---------------------------------------------------------------- enqueue


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"prompt": "a cat"},
        {"model": "flux-1-dev"},
        {"model": "", "prompt": "a cat"},
        {"model": "flux-1-dev", "prompt": ""},
        {"model": "flux-1-dev", "prompt": 42},
        {"model": "flux-1-dev", "prompt": "x", "num_generations": 0},
        {"model": "flux-1-dev", "prompt": "x", "num_generations": 5},
        {"model": "flux-1-dev", "prompt": "x", "num_generations": "2"},
        {"model": "flux-1-dev", "prompt": "x", "num_generations": True},
        {"model": "flux-1-dev", "prompt": "x", "seed": "abc"},
        {"model": "flux-1-dev", "prompt": "x", "target_repo": 5},
        {"model": "flux-1-dev", "prompt": "x", "media_type": "audio"},
    ],
)
def test_enqueue_validation(body: dict) -> None:
    sim, _ = make(warmup=0)
    with pytest.raises(ValueError) as info:
        sim.enqueue(body)
    assert str(info.value)


def test_enqueue_validation_rejects_non_dict() -> None:
    sim, _ = make(warmup=0)
    with pytest.raises(ValueError, match="JSON object"):
        sim.enqueue(["model"])  # type: ignore[arg-type]


def test_enqueue_returns_queued_rows_that_then_run() -> None:
    sim, clock = make()
    rows = sim.enqueue(
        {
            "model": "flux-1-dev",
            "prompt": "a lighthouse at dusk",
            "num_generations": 3,
            "target_namespace": "ox",
            "target_repo": "product-shots",
            "target_directory": "renders/2026-11",
            "seed": 100,
            "aspect_ratio": "16:9",
            "guidance_scale": 3.5,
            "status": "succeeded",  # extras never override core fields
        }
    )
    assert len(rows) == 3
    assert all(r["status"] in ("queued", "processing") for r in rows)
    assert [r["seed"] for r in rows] == [100, 101, 102]
    assert all(r["guidance_scale"] == 3.5 for r in rows)
    assert all(r["prompt"] == "a lighthouse at dusk" for r in rows)
    assert all(r["enqueued_at"] == int(clock()) for r in rows)
    listed = {r["generation_id"] for r in sim.list(model="flux-1-dev")}
    assert {r["generation_id"] for r in rows} <= listed
    assert sim.get(rows[0]["generation_id"])["target_repo"] == "product-shots"
    clock.advance(3600)
    for row in rows:
        assert sim.get(row["generation_id"]) is None


def test_enqueue_unknown_model_and_video() -> None:
    sim, clock = make(warmup=0)
    (image,) = sim.enqueue({"model": "my-custom-model", "prompt": "x"})
    assert image["media_type"] == "image"
    assert image["status"] == "processing"  # idle model starts at once
    (video,) = sim.enqueue(
        {"model": "my-video-model", "prompt": "y", "media_type": "video", "duration": 5}
    )
    assert video["media_type"] == "video" and video["duration"] == 5
    clock.advance(400)
    done = {r["generation_id"]: r for s in ("succeeded", "failed") for r in sim.list(status=s)}
    assert image["generation_id"] in done and video["generation_id"] in done


def test_enqueue_invalid_aspect_ratio_fails_with_model_message() -> None:
    sim, clock = make(warmup=0)
    (row,) = sim.enqueue({"model": "imagen-4", "prompt": "x", "aspect_ratio": "21:9"})
    clock.advance(5)
    (failed,) = sim.list(status="failed")
    assert failed["generation_id"] == row["generation_id"]
    assert failed["error_message"] == "Invalid aspect_ratio '21:9' for model imagen-4"


def test_user_rows_do_not_perturb_background() -> None:
    a, clock_a = make(5)
    b, clock_b = make(5)
    mine = b.enqueue({"model": "solo-model", "prompt": "x"})
    clock_a.advance(600)
    clock_b.advance(600)
    mine_ids = {r["generation_id"] for r in mine}
    rows_b = [r for r in all_rows(b) if r["generation_id"] not in mine_ids]
    assert rows_b == all_rows(a)


# ---------------------------------------------------------------- filters


def test_list_filters() -> None:
    sim, _ = make()
    everything = [r for s in STATUSES for r in sim.list(status=s)]
    cases = {
        "namespace": ("target_namespace", "acme-studio"),
        "model": ("model_name", "flux-1-dev"),
        "media_type": ("media_type", "video"),
        "repo": ("target_repo", "storyboards"),
        "folder": ("target_directory", "drafts"),
    }
    for param, (field, value) in cases.items():
        got = sim.list(status="succeeded", **{param: value})
        expected = [r for r in sim.list(status="succeeded") if r[field] == value]
        assert got == expected and got, param
        assert all(r[field] == value for r in sim.list(**{param: value}))
    assert sim.list(model="no-such-model") == []
    combo = sim.list(status="succeeded", namespace="ox", media_type="image")
    assert all(r["target_namespace"] == "ox" and r["media_type"] == "image" for r in combo)
    assert len(everything) > len(sim.list())


# ---------------------------------------------------------------- injected rows


def test_add_row_serves_hostile_rows_as_is() -> None:
    sim, _ = make(warmup=0, arrival_rate=0)
    hostile = {
        "generation_id": "not-a-uuid",
        "model": "legacy-shape",  # the docs' older shape: no model_name, no status
        "prompt": "\x1b[31mred\x1b[0m" + "A" * 10_000,
        "enqueued_at": "yesterday",
    }
    key = sim.add_row(hostile)
    assert key == "not-a-uuid"
    assert sim.list() == [hostile]
    assert sim.list(model="legacy-shape") == [hostile]
    assert sim.get("not-a-uuid") == hostile
    sim.add_row({"generation_id": 42, "status": "failed", "error_message": None})
    assert len(sim.list(status="failed")) == 1
    assert sim.cancel("not-a-uuid") is True
    assert sim.list() == []
    assert sim.get("not-a-uuid") is None


# ---------------------------------------------------------------- events


async def test_event_feed_contents_and_no_event_for_cancelled() -> None:
    sim, clock = make(warmup=0, arrival_rate=0)
    q = sim.subscribe()
    rows = sim.enqueue(
        {
            "model": "private-model",
            "prompt": "x",
            "num_generations": 4,
            "target_namespace": "ox",
            "target_repo": "product-shots",
        }
    )
    cancelled = rows[0]["generation_id"]
    assert sim.cancel(cancelled)
    clock.advance(600)
    sim.advance()
    events = drain(q)
    assert {e["generation_id"] for e in events} == {r["generation_id"] for r in rows[1:]}
    for event in events:
        assert event["model"] == "private-model"
        assert event["media_type"] == "image"
        if event["status"] == "succeeded":
            assert set(event) == {"generation_id", "status", "media_type", "model", "url"}
            assert event["url"].endswith(".png")
        else:
            assert event["status"] == "failed"
            assert set(event) == {"generation_id", "status", "media_type", "model", "error"}
            assert event["error"]
    sim.unsubscribe(q)


async def test_event_feed_matches_rows_and_is_lossy() -> None:
    sim, clock = make()
    clock.advance(60)
    sim.advance()  # nobody listening: these events are gone
    q = sim.subscribe()
    assert q.empty()
    clock.advance(120)
    sim.advance()
    events = drain(q)
    assert events
    assert {e["status"] for e in events} <= {"succeeded", "failed"}
    finished = {r["generation_id"]: r for s in ("succeeded", "failed") for r in sim.list(status=s)}
    for event in events:
        row = finished[event["generation_id"]]
        assert row["status"] == event["status"]
        assert row["completed_at"] > int(START) + 60
        if event["status"] == "succeeded":
            assert event["url"] == row["result_url"]
        else:
            assert event["error"] == row["error_message"]
    sim.unsubscribe(q)
    assert sim.subscriber_count == 0
    clock.advance(120)
    sim.advance()
    assert q.empty()


async def test_event_feed_from_another_thread() -> None:
    sim, clock = make()
    q = sim.subscribe()
    clock.advance(60)
    await asyncio.to_thread(sim.advance)
    event = await asyncio.wait_for(q.get(), timeout=2)
    assert event["status"] in ("succeeded", "failed")
    sim.unsubscribe(q)
