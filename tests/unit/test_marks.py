"""Marked rows and actions on many rows, in the dashboard model without a screen.

Marks (`space`, `*`, `U`) live in `DashboardModel` by generation id: they outlive polls,
sorting and filtering and go with their row. `core.actions` plans a bulk cancel or a
resubmit (what it acts on, what it leaves out), sends the requests a few at a time over
a stub hub (`httpx.MockTransport`), lands each result in the model and sums them up in
one toast.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from queue_tui.api.client import QueueClient
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings
from queue_tui.core.actions import (
    ALREADY_RESUBMITTED,
    CONCURRENCY,
    FINISHED,
    NOT_RESUBMITTABLE,
    Kind,
    Tally,
    plan_cancel,
    plan_resubmit,
    run_plan,
)
from queue_tui.core.dashboard import DashboardModel
from queue_tui.core.poller import Poller
from queue_tui.core.tracker import RowState
from queue_tui.demo.clock import FakeClock
from tests.unit.test_dashboard_model import START, Dash, row


class StubHub:
    """Answers DELETE and POST per id as a test says; counts requests in flight."""

    def __init__(self, delete: dict[str, int] | None = None, retry: int = 404) -> None:
        self.delete = delete or {}
        self.retry = retry
        self.sent: list[tuple[str, str, Any]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.new = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)  # let the other requests start
            body = json.loads(request.content) if request.content else None
            path = request.url.path
            self.sent.append((request.method, path, body))
            if request.method == "DELETE":
                status = self.delete.get(path.rsplit("/", 1)[-1], 200)
                if status == 500:
                    return httpx.Response(500, json={"error": "database is locked"})
                return httpx.Response(status, json={})
            if path.endswith("/retry"):
                if self.retry != 200:
                    return httpx.Response(self.retry, text="Not Found")
                self.new += 1
                old = path.split("/")[-2]
                return httpx.Response(
                    200, json={"generation_id": f"new-{self.new}", "retried_from_id": old}
                )
            self.new += 1
            return httpx.Response(200, json={"generations": [{"generation_id": f"new-{self.new}"}]})
        finally:
            self.in_flight -= 1


def model_on(hub: StubHub, **settings: Any) -> tuple[Dash, DashboardModel]:
    """A `Dash` whose model's client talks to `hub`."""
    d = Dash(**settings)
    client = QueueClient(d.settings, transport=httpx.MockTransport(hub))
    d.model = DashboardModel(d.settings, client, d.clock)
    return d, d.model


def ids(gens: Any) -> list[str]:
    return [g.generation_id for g in gens]


def marked_in(view: Any) -> list[str]:
    return [gid for gid, mark in view.marks.items() if mark.marked]


# -- marks ------------------------------------------------------------------------------------


def test_marks_survive_polls_and_filters_and_go_with_their_row() -> None:
    d = Dash(linger=60.0)
    d.page(row("a-0001"), row("b-0002", model="sdxl"), row("c-0003"))
    d.model.rows(d.clock())
    assert d.model.toggle_mark("a-0001") and d.model.toggle_mark("b-0002")
    view = d.model.remarked()
    assert sorted(marked_in(view)) == ["a-0001", "b-0002"]

    d.page(row("a-0001"), row("b-0002", model="sdxl"), row("c-0003"), row("d-0004"))
    view = d.model.rows(d.clock())
    assert sorted(marked_in(view)) == ["a-0001", "b-0002"]

    # Filtered away: still marked (and counted as hidden by the status bar).
    d.model.filters = QueueFilters(search="sdxl")
    view = d.model.rows(d.clock())
    assert ids(view.visible) == ["b-0002"]
    assert sorted(d.model.marked) == ["a-0001", "b-0002"]
    state = d.model.status_state(Poller(d.model.client, QueueFilters()), 0.0, 1)
    assert (state.marked, state.marked_hidden) == (2, 1)
    d.model.filters = QueueFilters()

    # A marked row that finishes keeps its mark while it lingers, and loses it when it goes.
    d.failed("a-0001")
    assert "a-0001" in marked_in(d.model.rows(d.clock()))
    d.clock.advance(61)
    d.model.tracker.expire(d.clock())
    d.page(row("b-0002", model="sdxl"), row("c-0003"), row("d-0004"))
    d.model.rows(d.clock())
    assert list(d.model.marked) == ["b-0002"]


def test_a_mark_shows_at_once_without_taking_news_the_screen_holds_back() -> None:
    d = Dash()
    d.page(row("a-0001"), row("b-0002"))
    d.model.rows(d.clock())
    d.page(row("a-0001"), row("b-0002"), row("c-0003"))  # not rendered yet (paused)
    d.model.toggle_mark("b-0002")
    view = d.model.remarked()
    assert ids(view.visible) == ["a-0001", "b-0002"]  # still the rows shown
    assert marked_in(view) == ["b-0002"]
    d.model.toggle_mark("b-0002")
    assert marked_in(d.model.remarked()) == []


def test_mark_shown_marks_what_the_filters_show_and_clear_unmarks_all() -> None:
    d = Dash()
    d.page(row("a-0001"), row("b-0002", model="sdxl"), row("c-0003", model="sdxl"))
    d.model.filters = QueueFilters(search="sdxl")
    d.model.rows(d.clock())
    assert d.model.mark_shown() == 2
    assert d.model.mark_shown() == 0
    assert sorted(d.model.marked) == ["b-0002", "c-0003"]
    assert d.model.clear_marks() == 2
    assert d.model.marked == {}


# -- plans ------------------------------------------------------------------------------------


def test_cancel_plans_the_marked_rows_in_flight_in_table_order_and_counts_the_rest() -> None:
    d = Dash(linger=60.0)
    d.page(*(row(f"q-{i:04d}") for i in range(8)), row("h-0001", model="sdxl"))
    d.failed("q-0006")
    d.failed("q-0007")
    d.model.filters = QueueFilters(search="flux")
    d.model.rows(d.clock())
    for gid in ("q-0003", "q-0001", "q-0006", "q-0007", "h-0001"):
        d.model.toggle_mark(gid)
    order = [f"q-{i:04d}" for i in range(7, -1, -1)]  # the table sorted the other way
    plan = plan_cancel(d.model, None, order)
    assert plan.kind is Kind.CANCEL and plan.from_marks
    assert ids(plan.targets) == ["q-0003", "q-0001", "h-0001"]
    assert dict(plan.skipped) == {FINISHED: 2}
    assert plan.hidden == 1  # h-0001: the search hides it
    assert plan.notes() == [
        "2 rows skipped: already finished.",
        "1 of the 3 is not shown (the filters or h hide it).",
    ]
    rows, more = plan.preview(limit=2)
    assert [(r.model, r.short_id, r.status) for r in rows] == [
        ("flux", "q-0003", "◷ queued"),
        ("flux", "q-0001", "◷ queued"),
    ]
    assert more == 1


def test_without_marks_a_plan_is_the_selected_row_and_says_why_not() -> None:
    d = Dash(linger=60.0)
    d.page(row("a-0001"), row("b-0002"))
    d.failed("b-0002")
    d.model.rows(d.clock())
    gen = d.model.tracker.get("b-0002").generation
    plan = plan_cancel(d.model, gen)
    assert not plan.targets and not plan.from_marks
    assert plan.nothing_message() == "Nothing to cancel: flux · b-0002 is already finished"
    active = d.model.tracker.get("a-0001").generation
    assert plan_resubmit(d.model, active).nothing_message() == (
        "Nothing to resubmit: flux · a-0001 is not failed or cancelled"
    )
    assert ids(plan_resubmit(d.model, gen).targets) == ["b-0002"]
    # Without a selected row, the marks (the app's choice when there are any).
    assert plan_cancel(d.model, None).nothing_message() == "Nothing selected to cancel"
    d.model.toggle_mark("a-0001")
    assert ids(plan_cancel(d.model, None).targets) == ["a-0001"]
    assert plan_cancel(d.model, gen).targets == ()  # the full-screen detail's row


# -- the summary --------------------------------------------------------------------------------


def test_the_summary_says_what_happened_in_one_line() -> None:
    tally = Tally(Kind.CANCEL, {FINISHED: 1}, done=7, already=1, errors=["database is locked"])
    toast = tally.summary()
    assert toast.message == (
        "7 cancelled, 2 already finished, 1 failed: database is locked "
        "(still marked: C tries again)"
    )
    assert toast.severity == "error"
    one = Tally(Kind.RESUBMIT, errors=["hub error 409: already succeeded"], from_marks=False)
    assert one.summary().message == "0 resubmitted, 1 failed: hub error 409: already succeeded"
    assert Tally(Kind.CANCEL, done=3).summary().message == "3 cancelled"
    assert Tally(Kind.CANCEL, done=3).summary().severity == "information"
    resubmit = Tally(
        Kind.RESUBMIT, {NOT_RESUBMITTABLE: 2}, done=3, new_ids=["n-000001", "n-000002", "n-03"]
    )
    assert resubmit.summary().message == (
        "3 resubmitted, 2 skipped (not failed or cancelled); watching n-000001, n-000002, n-03 (★)"
    )
    resubmit.hidden_by = "failed"
    assert resubmit.summary().message.endswith(
        "(★), not shown under status=failed while they run (F clears)"
    )
    nothing = Tally(Kind.RESUBMIT, errors=["a", "b", "a"]).summary()
    assert nothing.message.startswith("0 resubmitted, 3 failed: a (and other errors)")


# -- running a plan -----------------------------------------------------------------------------


async def test_a_bulk_cancel_lands_each_result_in_its_row_a_few_requests_at_a_time() -> None:
    hub = StubHub(delete={"q-0002": 404, "q-0003": 500})
    d, model = model_on(hub, linger=60.0)
    d.page(*(row(f"q-{i:04d}") for i in range(10)))
    model.rows(d.clock())
    model.mark_shown()
    plan = plan_cancel(model, None)
    landed: list[str] = []

    def on_result(gid: str) -> None:
        landed.append(gid)
        t = model.tracker.get(gid)
        # Each result is in the model when the app is told (it renders the row then).
        assert gid not in model.acting_on
        if gid not in ("q-0002", "q-0003"):
            assert t is not None and t.state is RowState.FINISHED
            assert t.generation.status == "cancelled"

    tally = await run_plan(model, plan, on_result)
    assert sorted(landed) == sorted(ids(plan.targets))
    assert 1 < hub.most_in_flight <= CONCURRENCY
    assert [m for m, _, _ in hub.sent] == ["DELETE"] * 10
    assert tally.summary().message == (
        "8 cancelled, 1 already finished, 1 failed: hub error 500: database is locked "
        "(still marked: C tries again)"
    )
    # The rows acted on are unmarked; the one that failed stays marked for another try.
    assert list(model.marked) == ["q-0003"]
    assert model.acting_on == set()


async def test_a_second_action_leaves_out_rows_already_being_acted_on() -> None:
    hub = StubHub()
    d, model = model_on(hub)
    d.page(row("a-0001"), row("b-0002"))
    model.rows(d.clock())
    model.mark_shown()
    first = plan_cancel(model, None)
    running = asyncio.ensure_future(run_plan(model, first))
    await asyncio.sleep(0)
    second = plan_cancel(model, None)
    assert not second.targets and dict(second.skipped) == {"already being acted on": 2}
    await running


async def test_a_resubmit_enqueues_the_rebuilt_request_links_both_rows_and_watches_the_new() -> (
    None
):
    hub = StubHub(retry=404)
    d, model = model_on(hub, linger=60.0)
    d.page(
        row("f-0001", prompt="a fox", seed=7, aspect_ratio="16:9", target_namespace="ox"),
        row("q-0002"),
    )
    d.failed("f-0001")
    model.rows(d.clock())
    model.mark_shown()
    plan = plan_resubmit(model, None)
    assert ids(plan.targets) == ["f-0001"] and dict(plan.skipped) == {NOT_RESUBMITTABLE: 1}

    tally = await run_plan(model, plan)
    assert tally.new_ids == ["new-1"]
    methods = [(m, p) for m, p, _ in hub.sent]
    assert methods == [("POST", "/api/ai/queue/f-0001/retry"), ("POST", "/api/ai/queue")]
    assert hub.sent[1][2] == {
        "model": "flux",
        "prompt": "a fox",
        "seed": 7,
        "aspect_ratio": "16:9",
        "target_namespace": "ox",
    }
    assert "new-1" in model.tracker.watched
    old = model.tracker.get("f-0001").generation
    assert dict(model.detail_notes(old))["resubmitted"] == "as new-1"
    d.page(row("new-1", prompt="a fox"))
    new = model.tracker.get("new-1").generation
    assert dict(model.detail_notes(new))["resubmitted"] == "from f-0001"
    # The queued row stays marked (left out); the resubmitted one is unmarked.
    assert list(model.marked) == ["q-0002"]

    # Once per session: a second R on the same row is left out, and says so.
    again = plan_resubmit(model, old)
    assert not again.targets and dict(again.skipped) == {ALREADY_RESUBMITTED: 1}
    assert again.nothing_message() == (
        "Nothing to resubmit: flux · f-0001 is already resubmitted in this session"
    )


async def test_a_hub_with_the_retry_endpoint_is_asked_once_per_row_and_its_link_shown() -> None:
    hub = StubHub(retry=200)
    d, model = model_on(hub, linger=60.0)
    d.page(row("f-0001", prompt="x"), row("f-0002", prompt="y"))
    d.failed("f-0001")
    d.failed("f-0002")
    model.rows(d.clock())
    model.mark_shown()
    tally = await run_plan(model, plan_resubmit(model, None))
    assert tally.done == 2 and model.resubmitter.retry_supported is True
    assert sorted(p for _, p, _ in hub.sent) == [
        "/api/ai/queue/f-0001/retry",
        "/api/ai/queue/f-0002/retry",
    ]
    # A row the hub says it retried (another session, another tool) links back too.
    d.page(row("r-0003", retried_from_id="0f41ed00-0000"))
    gen = model.tracker.get("r-0003").generation
    assert dict(model.detail_notes(gen))["resubmitted"] == "from 0f41ed00-0000"


def test_marking_needs_no_hub_and_works_read_only() -> None:
    # No request: a read-only model whose client can reach nothing marks all the same.
    settings = Settings(host="http://hub.invalid", read_only=True)
    model = DashboardModel(settings, QueueClient(settings), FakeClock(START))
    assert model.toggle_mark("x-0001") and list(model.marked) == ["x-0001"]
