"""Failure toasts are paced: at most one toast (or summary) per kind per gap of the app's
clock, what arrives inside the gap told in the next one, watched generations at once.

The gap runs on the app's injected `FakeClock` (shared with the demo hub), so nothing
here depends on real time: a failure "inside the gap" is one the hub reports while the
clock stands still; the gap ends when the test advances the clock. Failures reach the
app the way the hub tells them live: on its event stream (`GET /api/events`).
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from queue_tui.core.dashboard import COMPACT_TOASTS, ROOMY_TOASTS, ToastGate
from queue_tui.core.tracker import EventKind, LifecycleEvent
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.app import QueueApp
from tests.ui.conftest import first_poll, make_app, wait_until
from tests.ui.test_lifecycle import (
    SIZE,
    Toasts,
    events_live,
    finish,
    own_model,
    queued,
    status_cell,
    until_known,
)

SMALL = (80, 24)
MODEL = "pace-model"
OOM = "CUDA out of memory. Tried to allocate 2.50 GiB"


def rows(n: int, prefix: str = "pace") -> list[dict[str, Any]]:
    return [queued(f"{prefix}-{i:04d}", model=MODEL) for i in range(n)]


async def hub_fails(pilot: Pilot, sim: QueueSimulator, row: dict[str, Any], error: str) -> None:
    """The hub fails `row` and says so on its event stream; returns once the app has
    handled the news (announced it: toasted, held or quiet)."""
    app = pilot.app
    assert isinstance(app, QueueApp)
    gid = row["generation_id"]
    finish(sim, row, "failed", error_message=error)
    sim._deliver(
        [
            {
                "generation_id": gid,
                "status": "failed",
                "media_type": "image",
                "model": row["model_name"],
                "error": error,
            }
        ]
    )
    await wait_until(
        pilot,
        lambda: any(e.generation_id == gid and e.is_final for e in app.model.announced),
        f"the failure of {gid}",
    )
    await pilot.pause()


def failure_toasts(toasts: Toasts) -> list[dict[str, Any]]:
    return toasts.titled("Generation failed") + toasts.titled("Generations failed")


async def started(pilot: Pilot) -> None:
    await first_poll(pilot)
    await events_live(pilot)


def paced_app(
    clock: FakeClock, sim: QueueSimulator, batch: list[dict[str, Any]], **settings: Any
) -> tuple[QueueApp, Toasts]:
    """The dashboard on a view of `MODEL` alone, with `batch` queued at the hub, and
    every toast it shows."""
    for row in batch:
        sim.add_row(row)
    app = make_app(clock=clock, sim=sim, settings=own_model(MODEL, **settings))
    return app, Toasts(app)


def tick_after(app: QueueApp, clock: FakeClock, seconds: float) -> None:
    """`seconds` pass on the app's clock, then its one-second tick runs."""
    clock.advance(seconds)
    app.tick()


class TestGap:
    async def test_failures_inside_the_gap_wait_for_one_summary_when_it_ends(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        a, b, c = rows(3)
        app, toasts = paced_app(clock, sim, [a, b, c])
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            await hub_fails(pilot, sim, a, "Upstream provider timeout after 300s")
            (first,) = failure_toasts(toasts)
            assert first["title"] == "Generation failed"
            assert "Upstream provider timeout" in first["message"]

            await hub_fails(pilot, sim, b, OOM)
            await hub_fails(pilot, sim, c, OOM)
            assert failure_toasts(toasts) == [first]  # held: the gap has not run out
            # Nothing is lost meanwhile: the table and the status bar say it at once.
            assert status_cell(app, "pace-0001") == "✖ failed"
            assert status_cell(app, "pace-0002") == "✖ failed"
            assert "✖ 3 failed" in app.status_bar.text

            tick_after(app, clock, ROOMY_TOASTS.gap - 1)
            assert failure_toasts(toasts) == [first]

            # The gap ends: the held ones are told in one toast, without waiting for a poll.
            tick_after(app, clock, 1)
            await pilot.pause()
            (summary,) = toasts.titled("Generations failed")
            assert summary["message"] == (
                f"2 more generations failed: {MODEL} ×2; 2× {OOM} (t: stats)"
            )
            assert summary["severity"] == "error" and summary["markup"] is False
            assert len(failure_toasts(toasts)) == 2
            # Told once: later ticks stay quiet.
            tick_after(app, clock, ROOMY_TOASTS.gap * 3)
            assert len(failure_toasts(toasts)) == 2

    async def test_one_held_failure_gets_its_own_detailed_toast(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        a, b = rows(2)
        app, toasts = paced_app(clock, sim, [a, b])
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            await hub_fails(pilot, sim, a, "first")
            await hub_fails(pilot, sim, b, "Invalid aspect_ratio '99:1'")
            assert len(failure_toasts(toasts)) == 1
            tick_after(app, clock, ROOMY_TOASTS.gap)
            await pilot.pause()
            told = failure_toasts(toasts)
            assert len(told) == 2
            second = told[1]
            assert second["title"] == "Generation failed"
            assert second["message"] == f"{MODEL} · pace-000: Invalid aspect_ratio '99:1'"

    async def test_a_watched_failure_is_told_at_once_inside_the_gap(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        a, watched, c = rows(3)
        app, toasts = paced_app(clock, sim, [a, watched, c])
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            app.model.tracker.watch(watched["generation_id"])
            await hub_fails(pilot, sim, a, "boom")
            await hub_fails(pilot, sim, watched, "Upstream provider timeout after 300s")
            (toast,) = toasts.titled("Watched generation finished")
            assert "Upstream provider timeout after 300s" in toast["message"]
            # ...and it did not use up anything: the gap from `a` still holds `c`.
            await hub_fails(pilot, sim, c, "boom")
            assert len(failure_toasts(toasts)) == 1

    async def test_the_bell_rings_with_a_toast_not_with_each_held_failure(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        batch = rows(3)
        app, _ = paced_app(clock, sim, batch, bell=True)
        rings: list[int] = []
        monkeypatch.setattr(app, "bell", lambda: rings.append(1))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            for row in batch:
                await hub_fails(pilot, sim, row, "boom")
            assert rings == [1]
            tick_after(app, clock, ROOMY_TOASTS.gap)
            assert rings == [1, 1]


class TestSmallTerminal:
    async def test_at_80x24_a_batch_of_failures_is_one_short_summary(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        batch = rows(2, prefix="small")
        app, toasts = paced_app(clock, sim, batch)
        async with app.run_test(size=SMALL) as pilot:
            await first_poll(pilot)
            for row in batch:
                finish(sim, row, "failed", error_message=OOM)
            # Learnt in one resolution round over HTTP: one batch of two.
            await until_known(pilot, clock, "small-0001")
            await pilot.pause()
            assert not toasts.titled("Generation failed")
            (summary,) = toasts.titled("Generations failed")
            assert summary["message"].startswith(f"2 generations failed: {MODEL} ×2; 2× ")
            assert summary["timeout"] == COMPACT_TOASTS.failure_timeout

    async def test_at_80x24_the_error_is_shorter_and_the_gap_longer(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        a, b = rows(2)
        app, toasts = paced_app(clock, sim, [a, b])
        long_error = "boom " * 40
        async with app.run_test(size=SMALL) as pilot:
            await started(pilot)
            await hub_fails(pilot, sim, a, long_error)
            (toast,) = failure_toasts(toasts)
            error = toast["message"].split(": ", 1)[1]
            assert error.startswith("boom boom") and len(error) <= COMPACT_TOASTS.error_len
            await hub_fails(pilot, sim, b, "second")
            # A roomy terminal's gap is not enough here.
            tick_after(app, clock, ROOMY_TOASTS.gap)
            assert len(failure_toasts(toasts)) == 1
            tick_after(app, clock, COMPACT_TOASTS.gap - ROOMY_TOASTS.gap)
            await pilot.pause()
            assert len(failure_toasts(toasts)) == 2


# -- the gate on its own (no app) ------------------------------------------------------------


def event(gid: str) -> LifecycleEvent:
    from queue_tui.api.models import Generation

    gen = Generation.model_validate(
        {"generation_id": gid, "model_name": MODEL, "status": "failed", "media_type": "image"}
    )
    return LifecycleEvent(EventKind.FAILED, gid, 0.0, gen, "events")


class TestToastGate:
    def test_holds_inside_the_gap_and_hands_everything_over_after(self):
        gate = ToastGate()
        told, held = gate.admit("failed", [event("a")], 100.0, 15.0)
        assert [e.generation_id for e in told] == ["a"] and held == 0
        gate.told("failed", 100.0)
        assert gate.admit("failed", [event("b")], 101.0, 15.0) == ([], 0)
        assert gate.admit("failed", [], 114.9, 15.0) == ([], 0)
        assert gate.holding()
        told, held = gate.admit("failed", [event("c")], 115.0, 15.0)
        assert [e.generation_id for e in told] == ["b", "c"] and held == 1
        assert not gate.holding()

    def test_kinds_have_their_own_gaps(self):
        gate = ToastGate()
        gate.told("failed", 100.0)
        told, _ = gate.admit("succeeded", [event("s")], 100.0, 15.0)
        assert len(told) == 1

    def test_a_clock_set_back_does_not_keep_the_gate_shut(self):
        gate = ToastGate()
        gate.told("failed", 1_000.0)
        told, _ = gate.admit("failed", [event("a")], 400.0, 15.0)
        assert len(told) == 1
