"""Lifecycle and insight on the dashboard: finished rows, cancel, toasts, watch, stats.

The seeded demo hub runs in-process on a `FakeClock` shared with the app: nothing moves
until a test advances the clock, and the watcher's resolution rounds follow that clock,
so an outcome is learnt within a bounded number of `advance + poll` steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline

from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings
from queue_tui.core.dashboard import DONE, PENDING
from queue_tui.core.outcomes import EventsState
from queue_tui.core.tracker import RowState
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import FROZEN_INTERVAL
from queue_tui.tui.app import QueueApp
from queue_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from queue_tui.tui.screens.detail import DetailScreen
from queue_tui.tui.widgets.footer import DashboardFooter
from tests.ui.conftest import DEMO_START, first_poll, make_app, poll, wait_until
from tests.ui.on_screen import toasts_shown

SIZE = (120, 36)
#: Polls (one frozen-clock interval apart) within which any outcome must be known.
MAX_ROUNDS = 5


def settings(**kw: Any) -> Settings:
    return Settings(demo=True, interval=FROZEN_INTERVAL, **kw)


def own_model(model: str, **kw: Any) -> Settings:
    """A view of one model nobody else uses: the demo's own failures and successes (a
    few a minute) stay out of it, so the toasts counted are the test's."""
    return settings(filters=QueueFilters(model=model), **kw)


def queued(gid: str, *, model: str = "flux-1-dev", **extra: Any) -> dict[str, Any]:
    """A row the simulator serves as it is (it never progresses by itself)."""
    return {
        "generation_id": gid,
        "model_name": model,
        "media_type": "image",
        "status": "queued",
        "enqueued_at": int(DEMO_START - 30),
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "prompt": "a red fox in fresh snow",
        **extra,
    }


def finish(sim: QueueSimulator, row: dict[str, Any], status: str, **extra: Any) -> None:
    """The hub finishes an injected row (it leaves the active list)."""
    now = int(sim.clock())
    sim.add_row(row | {"status": status, "started_at": now - 5, "completed_at": now, **extra})


class Toasts:
    """Every `notify` call of the app (the toast widgets expire on a real clock)."""

    def __init__(self, app: QueueApp) -> None:
        self.calls: list[dict[str, Any]] = []
        original = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            self.calls.append({"message": message, **kwargs})
            original(message, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    def titled(self, title: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c.get("title") == title]

    def saying(self, text: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if text in c["message"]]


class Requests:
    """Method and path of every request the app's client sends."""

    def __init__(self, app: QueueApp) -> None:
        self.sent: list[tuple[str, str]] = []

        async def remember(request: httpx.Request) -> None:
            self.sent.append((request.method, request.url.path))

        app.client.http.event_hooks["request"].append(remember)

    def deletes(self) -> list[str]:
        return [path for method, path in self.sent if method == "DELETE"]


async def until_known(
    pilot: Pilot, clock: FakeClock, gid: str, done: Callable[[], bool] | None = None
) -> None:
    """Advance the clock a poll interval at a time until `gid`'s outcome is known."""
    app = pilot.app
    assert isinstance(app, QueueApp)

    def known() -> bool:
        t = app.model.tracker.get(gid)
        return t is not None and t.state is RowState.FINISHED

    check = done or known
    for _ in range(MAX_ROUNDS):
        if check():
            return
        clock.advance(FROZEN_INTERVAL)
        await poll(pilot)
    assert check(), f"the outcome of {gid} was not learnt in {MAX_ROUNDS} polls"


async def events_live(pilot: Pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.model.events_state is EventsState.LIVE, "the event stream")


def status_cell(app: QueueApp, gid: str) -> str:
    return app.table.cell_text(gid, "status")


# -- notifications -------------------------------------------------------------------------


class TestFailureToasts:
    async def test_a_failure_learnt_from_a_status_query_raises_a_toast(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        row = queued("doomed-0001", model="doom-model")
        sim.add_row(row)
        app = make_app(clock=clock, sim=sim, settings=own_model("doom-model"))
        toasts = Toasts(app)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            assert status_cell(app, "doomed-0001") == "◷ queued"
            error = "CUDA out of memory. Tried to allocate 2.50 GiB\nsecond line of detail"
            finish(sim, row, "failed", error_message=error)
            await poll(pilot)
            # Gone from the queue, outcome not known yet: it stays, marked.
            assert "doomed-0001" in app.table.generations
            if app.model.tracker.is_pending("doomed-0001"):
                assert status_cell(app, "doomed-0001") == "… finishing"
                assert app.table.mark_of("doomed-0001").state == PENDING
            await until_known(pilot, clock, "doomed-0001")
            await pilot.pause()
            failed = toasts.titled("Generation failed")
            assert len(failed) == 1
            toast = failed[0]
            assert "doom-model" in toast["message"]
            assert "CUDA out of memory. Tried to allocate 2.50 GiB" in toast["message"]
            assert "second line" not in toast["message"]
            assert toast["markup"] is False and toast["severity"] == "error"
            # The toast is on screen too (Textual keeps it for its timeout).
            shown = await toasts_shown(pilot)
            assert any("CUDA out of memory" in t for t in shown)
            assert status_cell(app, "doomed-0001") == "✖ failed"

    async def test_a_failure_from_the_event_stream_raises_a_toast(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, settings=own_model("test-model"))
        toasts = Toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await events_live(pilot)
            # An aspect ratio the model does not take: the demo fails it within 1.5 s.
            (created,) = sim.enqueue(
                {"model": "test-model", "prompt": "a lighthouse", "aspect_ratio": "99:1"}
            )
            gid = created["generation_id"]
            await poll(pilot)
            assert gid in app.table.generations
            clock.advance(2)
            await until_known(pilot, clock, gid, lambda: bool(toasts.titled("Generation failed")))
            (toast,) = toasts.titled("Generation failed")
            assert "test-model" in toast["message"]
            assert "Invalid aspect_ratio '99:1'" in toast["message"]
            assert app.model.tracker.get(gid).generation.status == "failed"

    async def test_hostile_error_text_is_shown_literally(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        row = queued("hostile-01", model="[b]model[/]")
        sim.add_row(row)
        app = make_app(clock=clock, sim=sim, settings=own_model("[b]model[/]"))
        toasts = Toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            finish(sim, row, "failed", error_message="[/]boom \x1b]0;pwned\x07 [@click=quit]x[/]")
            await until_known(pilot, clock, "hostile-01")
            await pilot.pause()
            (toast,) = toasts.titled("Generation failed")
            assert "[b]model[/]" in toast["message"]
            assert "[/]boom" in toast["message"] and "[@click=quit]" in toast["message"]
            assert "\x1b" not in toast["message"] and "\x07" not in toast["message"]
            assert toast["markup"] is False
            assert app.is_running

    async def test_many_failures_in_one_poll_become_one_summary_toast(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        rows = [queued(f"many-fail-{i}", model="[b]model[/]") for i in range(5)]
        for row in rows:
            sim.add_row(row)
        app = make_app(clock=clock, sim=sim, settings=own_model("[b]model[/]"))
        toasts = Toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            for row in rows:
                finish(sim, row, "failed", error_message="CUDA out of memory")
            await until_known(pilot, clock, "many-fail-4")
            await pilot.pause()
            assert not toasts.titled("Generation failed")
            (toast,) = toasts.titled("Generations failed")
            assert toast["message"].startswith("5 generations failed: ")
            assert "[b]model[/]" in toast["message"] and toast["message"].endswith("(t: stats)")
            assert toast["markup"] is False

    async def test_rows_already_failed_when_first_listed_are_not_news(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, status="failed")
        toasts = Toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            assert app.table.row_count > 0
            assert not toasts.titled("Generation failed")
            assert not toasts.titled("Generations failed")
            # Listed by the hub under this filter: shown as usual, not dimmed.
            assert all(app.table.mark_of(g).state != DONE for g in app.table.generations)

    async def test_bell_rings_on_a_failure_only_with_bell(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        rings: list[str] = []
        for bell, expected in ((False, 0), (True, 1)):
            # A model of their own: the demo's other failures stay out of this view.
            rows = [queued(f"bell-{bell}-{i}", model="bell-model") for i in range(2)]
            for row in rows:
                sim.add_row(row)
            app = make_app(clock=clock, sim=sim, settings=own_model("bell-model", bell=bell))
            monkeypatch.setattr(app, "bell", lambda: rings.append("ding"))
            async with app.run_test(size=SIZE) as pilot:
                await first_poll(pilot)
                rings.clear()
                finish(sim, rows[0], "failed", error_message="boom")
                finish(sim, rows[1], "succeeded", result_url="https://hub.oxen.ai/x.png")
                await until_known(pilot, clock, rows[0]["generation_id"])
                await until_known(pilot, clock, rows[1]["generation_id"])
                assert len(rings) == expected

    async def test_success_toasts_only_with_notify_success(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        for notify_success in (False, True):
            row = queued(f"ok-{notify_success}", model="ok-model")
            sim.add_row(row)
            app = make_app(
                clock=clock, sim=sim, settings=own_model("ok-model", notify_success=notify_success)
            )
            toasts = Toasts(app)
            async with app.run_test(size=SIZE) as pilot:
                await first_poll(pilot)
                url = "https://hub.oxen.ai/api/repos/ox/product-shots/file/main/ok.png"
                finish(sim, row, "succeeded", result_url=url)
                await until_known(pilot, clock, row["generation_id"])
                await pilot.pause()
                mine = [c for c in toasts.saying(url) if c.get("title") == "Generation succeeded"]
                assert len(mine) == (1 if notify_success else 0)


# -- finished rows -------------------------------------------------------------------------


class TestFinishedRows:
    async def test_a_finished_row_lingers_dimmed_with_its_url_then_x_dismisses_it(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        row = queued("linger-01")
        sim.add_row(row)
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            url = "https://hub.oxen.ai/api/repos/ox/product-shots/file/main/linger.png"
            finish(sim, row, "succeeded", result_url=url)
            await until_known(pilot, clock, "linger-01")
            assert status_cell(app, "linger-01") == "✔ succeeded"
            assert app.table.mark_of("linger-01").state == DONE
            assert app.table.select_id("linger-01")
            await pilot.pause()
            pane = app.detail.plain_text()
            assert url in pane
            assert "x dismisses" in pane
            await pilot.press("x")
            assert "linger-01" not in app.table.generations
            assert app.model.tracker.get("linger-01") is None
            clock.advance(FROZEN_INTERVAL)
            await poll(pilot)
            assert "linger-01" not in app.table.generations

    async def test_h_hides_and_shows_finished_rows(self, clock: FakeClock, sim: QueueSimulator):
        row = queued("hide-me-01")
        sim.add_row(row)
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            finish(sim, row, "failed", error_message="boom")
            await until_known(pilot, clock, "hide-me-01")
            done = {g for g in app.table.generations if app.table.mark_of(g).state == DONE}
            assert "hide-me-01" in done
            await pilot.press("h")
            assert not done & set(app.table.generations)
            assert app.table.row_count < len(app.current_rows())  # "shown of total"
            await pilot.press("h")
            assert done <= set(app.table.generations)

    async def test_a_finished_row_goes_when_its_linger_ends_without_a_poll(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        row = queued("short-linger")
        sim.add_row(row)
        app = make_app(clock=clock, sim=sim, settings=settings(linger=120))
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            finish(sim, row, "cancelled")
            await until_known(pilot, clock, "short-linger")
            assert "short-linger" in app.table.generations
            requests = app.poller.requests
            clock.advance(121)
            # The app's one-second tick notices; no poll is needed.
            await wait_until(
                pilot, lambda: "short-linger" not in app.table.generations, "the linger to end"
            )
            assert app.poller.requests == requests

    async def test_linger_zero_keeps_vanished_rows_until_resolved_then_drops_them(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        row = queued("no-linger")
        sim.add_row(row)
        app = make_app(clock=clock, sim=sim, settings=settings(linger=0))
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await events_live(pilot)  # so the first round waits for an event
            finish(sim, row, "succeeded", result_url="https://hub.oxen.ai/n.png")
            await poll(pilot)
            assert app.model.tracker.is_pending("no-linger")
            assert status_cell(app, "no-linger") == "… finishing"
            await until_known(pilot, clock, "no-linger")
            assert "no-linger" not in app.table.generations


# -- cancel ----------------------------------------------------------------------------------


class TestCancel:
    async def test_cancel_asks_first_then_the_row_ends_cancelled(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        sim.add_row(queued("cancel-me"))
        app = make_app(clock=clock, sim=sim)
        toasts = Toasts(app)
        requests = Requests(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            assert app.table.select_id("cancel-me")
            await pilot.pause()
            await pilot.press("C")
            assert isinstance(app.screen, ConfirmCancelScreen)
            assert requests.deletes() == []
            await pilot.press("y")
            await wait_until(pilot, lambda: bool(toasts.saying("Cancelled")), "the cancel")
            assert requests.deletes() == ["/api/ai/queue/cancel-me"]
            assert sim.get("cancel-me") is None  # the hub cancelled it
            assert status_cell(app, "cancel-me") == "⊘ cancelled"
            assert app.table.mark_of("cancel-me").state == DONE

            # The cursor moved on to the next row in flight; back on the cancelled row,
            # again: it has finished, so no dialog and no request, just the answer.
            assert app.table.cursor_id != "cancel-me"
            assert app.table.select_id("cancel-me")
            await pilot.press("delete")
            assert not isinstance(app.screen, ConfirmCancelScreen)
            assert toasts.saying("already finished (cancelled)")
            assert len(requests.deletes()) == 1

    async def test_keeping_it_sends_nothing(self, clock: FakeClock, sim: QueueSimulator):
        sim.add_row(queued("keep-me"))
        app = make_app(clock=clock, sim=sim)
        requests = Requests(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("keep-me")
            await pilot.pause()
            for answer in ("n", "escape", "enter"):  # enter presses the focused "Keep it"
                await pilot.press("C")
                assert isinstance(app.screen, ConfirmCancelScreen)
                await pilot.press(answer)
                assert not isinstance(app.screen, ConfirmCancelScreen)
            await pilot.pause()
            assert requests.deletes() == []
            assert sim.get("keep-me") is not None

    async def test_a_404_from_the_hub_says_already_finished(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        sim.add_row(queued("gone-already"))
        app = make_app(clock=clock, sim=sim)
        toasts = Toasts(app)
        requests = Requests(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("gone-already")
            await pilot.pause()
            assert sim.cancel("gone-already")  # someone else got there first
            await pilot.press("C", "y")
            await wait_until(
                pilot, lambda: bool(toasts.saying("had already finished")), "the answer"
            )
            assert requests.deletes() == ["/api/ai/queue/gone-already"]
            (toast,) = toasts.saying("had already finished")
            assert toast["severity"] == "warning"

    async def test_read_only_offers_no_cancel_and_sends_nothing(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        sim.add_row(queued("protected"))
        app = make_app(clock=clock, sim=sim, settings=settings(read_only=True))
        requests = Requests(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("protected")
            await pilot.pause()
            assert app.check_action("cancel_generation", ()) is False
            active = app.screen.active_bindings.values()
            assert "cancel_generation" not in {b.action for _, b, on, _ in active if on}
            await pilot.press("C", "delete", "y")
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmCancelScreen)
            assert requests.deletes() == []
            assert sim.get("protected") is not None
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert not any("Cancel" in t for t in titles)
            footer_text = str(app.query_one(DashboardFooter).render())
            assert "read-only" in footer_text
            assert "Cancel" not in footer_text

    async def test_cancel_is_in_the_footer_and_the_palette(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(80, 24)) as pilot:
            await first_poll(pilot)
            await pilot.pause()
            footer_text = str(app.query_one(DashboardFooter).render())
            assert "del Cancel" in footer_text and "read-only" not in footer_text
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Cancel the selected generation" in titles


# -- watch -----------------------------------------------------------------------------------


class TestWatch:
    async def test_a_watched_generation_finishing_always_notifies(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        row = queued("watch-me")
        other = queued("not-watched")
        sim.add_row(row)
        sim.add_row(other)
        app = make_app(clock=clock, sim=sim)  # no --notify-success
        toasts = Toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("watch-me")
            await pilot.pause()
            await pilot.press("w")
            assert "watch-me" in app.model.tracker.watched
            assert status_cell(app, "watch-me") == "★ queued"
            assert "★" in app.detail.plain_text()
            url = "https://hub.oxen.ai/api/repos/ox/product-shots/file/main/watched.png"
            finish(sim, row, "succeeded", result_url=url)
            finish(sim, other, "succeeded", result_url="https://hub.oxen.ai/other.png")
            await until_known(pilot, clock, "watch-me")
            await until_known(pilot, clock, "not-watched")
            await pilot.pause()
            (toast,) = toasts.titled("Watched generation finished")
            assert url in toast["message"] and "watch-me"[:8] in toast["message"]
            assert not toasts.saying("other.png")  # successes are quiet by default
            assert status_cell(app, "watch-me") == "★ succeeded"

    async def test_a_watched_failure_says_the_error_and_rings_with_bell(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        row = queued("watch-fail", model="veo-3-fast")
        sim.add_row(row)
        app = make_app(clock=clock, sim=sim, settings=settings(bell=True), model="flux-1-dev")
        rings: list[int] = []
        monkeypatch.setattr(app, "bell", lambda: rings.append(1))
        toasts = Toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            # Not in this view (model filter): watch it by id, as `w` would.
            app.model.tracker.watch("watch-fail")
            finish(sim, row, "failed", error_message="Upstream provider timeout after 300s")
            await until_known(pilot, clock, "watch-fail")
            await pilot.pause()
            (toast,) = toasts.titled("Watched generation finished")
            assert "Upstream provider timeout after 300s" in toast["message"]
            assert toast["severity"] == "error"
            assert rings == [1]

    async def test_w_again_stops_watching(self, clock: FakeClock, sim: QueueSimulator):
        sim.add_row(queued("fickle"))
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("fickle")
            await pilot.pause()
            await pilot.press("w", "w")
            assert "fickle" not in app.model.tracker.watched
            assert status_cell(app, "fickle") == "◷ queued"


# -- stats and ETA -----------------------------------------------------------------------------


async def run_for(pilot: Pilot, clock: FakeClock, seconds: float, step: float = 30.0) -> None:
    """Let the hub work for `seconds`, polling every `step`."""
    for _ in range(int(seconds // step)):
        clock.advance(step)
        await poll(pilot)


class TestStats:
    async def test_t_opens_the_stats_panel_with_per_model_numbers_and_a_sparkline(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await run_for(pilot, clock, 300)
            assert not app.stats_panel.display
            await pilot.press("t")
            await pilot.pause()
            assert app.stats_panel.display
            text = app.stats_panel.plain_text
            for model in ("flux-1-dev", "kling-v2-master", "all models"):
                assert model in text
            assert "WAIT p50/p95" in text and "Failures, last 30m" in text
            overall = app.model.stats.overall
            assert overall.queued + overall.processing > 0
            assert f"queued {overall.queued}" in text
            spark = app.stats_panel.query_one(Sparkline)
            assert spark.data is not None and len(spark.data) >= 5
            await pilot.press("t")
            await pilot.pause()
            assert not app.stats_panel.display

    async def test_at_80_columns_the_panel_takes_the_tables_place_and_esc_returns(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(80, 24)) as pilot:
            await first_poll(pilot)
            await pilot.press("t")
            await pilot.pause()
            assert app.stats_panel.display and not app.table.display
            await pilot.press("escape")
            await pilot.pause()
            assert app.table.display and not app.stats_panel.display
            assert app.focused is app.table

    async def test_eta_appears_for_queued_rows_from_the_hubs_history(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)

            def queued_etas() -> dict[str, str]:
                return {
                    gid: app.table.cell_text(gid, "eta")
                    for gid, g in app.table.generations.items()
                    if g.status == "queued"
                }

            # The hub's recently finished rows, read once after the first poll, give
            # estimates at once: no waiting for this session to see completions.
            await wait_until(pilot, lambda: len(app.model.tracker.history) > 0, "the history")
            await run_for(pilot, clock, 4)
            with_eta = {gid: eta for gid, eta in queued_etas().items() if eta != "—"}
            assert with_eta, "some model has finished enough rows for an estimate"
            gid, eta = next(iter(with_eta.items()))
            assert eta.startswith(("~", "<"))
            app.table.select_id(gid)
            await pilot.pause()
            assert "until done" in app.detail.plain_text()


class TestOverTheDetailView:
    async def test_polls_and_cancel_work_while_the_full_screen_detail_is_open(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        sim.add_row(queued("detail-cancel"))
        app = make_app(clock=clock, sim=sim)
        toasts = Toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            app.table.select_id("detail-cancel")
            await pilot.pause()
            await pilot.press("enter")
            assert isinstance(app.screen, DetailScreen)
            clock.advance(FROZEN_INTERVAL)
            await poll(pilot)  # renders, computes stats, with another screen on top
            await pilot.press("C")
            assert isinstance(app.screen, ConfirmCancelScreen)
            await pilot.press("y")
            await wait_until(pilot, lambda: bool(toasts.saying("Cancelled")), "the cancel")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen), "back to the detail view"
            pane = app.screen.pane
            assert pane.generation is not None and pane.generation.status == "cancelled"
            assert "cancelled from this dashboard" in pane.plain_text()
            await pilot.press("x")  # dismissing it closes the view
            await pilot.pause()
            assert not any(isinstance(s, DetailScreen) for s in app.screen_stack)
            assert app.screen is app.table.screen
            assert "detail-cancel" not in app.table.generations
            assert app.is_running
