"""The demo hub's older row shape (`row_shape="old"`) and the simulator's ground truth
(`finished()` / `outcomes()`), which the truth-audit tests compare a client against."""

from __future__ import annotations

import httpx
import pytest

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.models import parse_generation
from queue_tui.connect import demo_transport
from queue_tui.demo.chaos import ChaosMiddleware
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator

START = 1_764_000_000.0
SPEC_ONLY = {"model_name", "status", "result_url", "error_message"}


def _sim(clock: FakeClock, **kwargs: object) -> QueueSimulator:
    return QueueSimulator(7, clock, **kwargs)  # type: ignore[arg-type]


async def _get(app: object, path: str, **params: str) -> httpx.Response:
    transport = StreamingASGITransport(app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        return await http.get(path, params=params)


def test_old_rows_have_model_and_no_status_url_or_error() -> None:
    clock = FakeClock(START)
    sim = _sim(clock)
    for status in (None, "queued", "processing", "succeeded", "failed", "cancelled"):
        spec_rows = sim.list(status=status)
        old_rows = sim.list(status=status, shape="old")
        assert [r["generation_id"] for r in old_rows] == [r["generation_id"] for r in spec_rows]
        for spec, old in zip(spec_rows, old_rows, strict=True):
            assert not SPEC_ONLY & old.keys(), old
            assert old["model"] == spec["model_name"]
            assert old["prompt"] == spec["prompt"]
            for name in ("enqueued_at", "started_at", "completed_at", "media_type"):
                assert old[name] == spec[name]
            gen = parse_generation(old)
            assert gen.model_name == spec["model_name"]
            assert not gen.status_reported


def test_old_rows_carry_request_parameters_only_when_submitted() -> None:
    clock = FakeClock(START)
    sim = _sim(clock, warmup=0.0, arrival_rate=0.0)
    body = {"model": "flux-1-dev", "prompt": "a lighthouse"}
    (bare,) = sim.enqueue(body)
    (full,) = sim.enqueue({**body, "seed": 42, "aspect_ratio": "16:9", "style": "noir"})
    (video,) = sim.enqueue({"model": "veo-3-fast", "prompt": "waves", "duration": 8})
    rows = {r["generation_id"]: r for r in sim.list(shape="old")}
    assert "seed" not in rows[bare["generation_id"]]
    assert "aspect_ratio" not in rows[bare["generation_id"]]
    assert "duration" not in rows[bare["generation_id"]]
    assert rows[full["generation_id"]]["seed"] == 42
    assert rows[full["generation_id"]]["aspect_ratio"] == "16:9"
    assert rows[full["generation_id"]]["style"] == "noir"
    assert rows[video["generation_id"]]["duration"] == 8
    assert sim.get(bare["generation_id"], shape="old") == rows[bare["generation_id"]]


async def test_old_shape_hub_serves_every_list_and_get_without_status() -> None:
    clock = FakeClock(START)
    sim = _sim(clock)
    app = create_app(sim, events=False, row_shape="old")
    active = (await _get(app, "/api/ai/queue")).json()["generations"]
    assert active and all("status" not in r and "model" in r for r in active)
    for status in ("succeeded", "failed", "cancelled", "queued"):
        rows = (await _get(app, "/api/ai/queue", status=status)).json()["generations"]
        # The hub still filters: each list holds only rows of that status.
        truth = {r["generation_id"] for r in sim.list(status=status)}
        assert rows and {r["generation_id"] for r in rows} == truth
        assert all("status" not in r and "result_url" not in r for r in rows)
    one = await _get(app, f"/api/ai/queue/{active[0]['generation_id']}")
    assert one.status_code == 200 and "status" not in one.json()
    assert one.json()["model"] == active[0]["model"]


async def test_spec_shape_is_the_default_and_a_bad_shape_is_refused() -> None:
    clock = FakeClock(START)
    rows = (await _get(create_app(_sim(clock)), "/api/ai/queue")).json()["generations"]
    assert rows and all("status" in r and "model_name" in r for r in rows)
    with pytest.raises(ValueError, match="row_shape"):
        create_app(_sim(clock), row_shape="older")


async def test_demo_transport_takes_the_row_shape() -> None:
    transport = demo_transport(clock=FakeClock(START), row_shape="old")
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        rows = (await http.get("/api/ai/queue")).json()["generations"]
    assert rows and all("status" not in r for r in rows)


def test_create_app_passes_chaos_faults_and_stall_through() -> None:
    app = create_app(
        _sim(FakeClock(START)), chaos=0.5, chaos_faults=["stall", "not_json"], chaos_stall=0.01
    )
    (layer,) = [m for m in app.user_middleware if m.cls is ChaosMiddleware]
    assert layer.kwargs["faults"] == ("stall", "not_json")
    assert layer.kwargs["stall_seconds"] == 0.01
    assert layer.kwargs["rate"] == 0.5


def test_finished_is_the_ground_truth_and_outlives_retention() -> None:
    clock = FakeClock(START)
    sim = _sim(clock, retention=120.0)
    start = clock()
    clock.advance(600)
    truth = sim.finished(since=start)
    assert truth
    assert {status for status, _ in truth.values()} == {"succeeded", "failed", "cancelled"}
    assert all(start <= at <= clock() for _, at in truth.values())
    assert sim.outcomes(since=start) == {gid: status for gid, (status, _) in truth.items()}
    # Everything still listed agrees with it...
    listed = 0
    for status in ("succeeded", "failed", "cancelled"):
        for row in sim.list(status=status):
            assert sim.outcomes()[row["generation_id"]] == status
            listed += 1
    # ...and what retention dropped from the lists is still known.
    assert listed < len(truth)
    active = {r["generation_id"] for r in sim.list()}
    assert not active & truth.keys()


def test_finished_includes_cancels_through_the_api() -> None:
    clock = FakeClock(START)
    sim = _sim(clock, warmup=0.0, arrival_rate=0.0)
    (row,) = sim.enqueue({"model": "wan-2.1-t2v", "prompt": "a slow dolly shot"})
    assert row["generation_id"] not in sim.outcomes()
    clock.advance(1)
    assert sim.cancel(row["generation_id"])
    assert sim.finished()[row["generation_id"]] == ("cancelled", clock())
