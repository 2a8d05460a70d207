"""Outcome sources: every finished row gets its outcome, whichever sources the hub has.

The demo hub runs in-process (the streaming ASGI transport) on a FakeClock; the
watcher is driven poll by poll. Stubbed hubs (respx) cover hubs lacking a source.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
import respx
from click.testing import CliRunner

from queue_tui import cli
from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.client import FetchResult, QueueClient
from queue_tui.api.errors import ServerError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation, QueuePage
from queue_tui.config import Settings
from queue_tui.core.outcomes import EventsState, LifecycleWatcher
from queue_tui.core.tracker import EventKind, LifecycleEvent, RowState, Tracker
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app

START = 1_764_000_000.0
MODEL = "outcome-test-model"
DEMO = "http://demo.queue-tui.invalid"
HOST = "https://hub.test"
#: Seconds a cancelled event stream gets to end (it ends at its next await).
CANCEL_GRACE = 5.0


class Harness:
    """A tracker and watcher on an in-process demo hub, driven one poll at a time."""

    def __init__(self, app: Any, clock: FakeClock, client: QueueClient, **watcher_kw: Any):
        self.app = app
        self.sim = app.state.sim
        self.clock = clock
        self.client = client
        self.tracker = Tracker(linger=10_000, clock=clock)
        self.watcher = LifecycleWatcher(
            client, self.tracker, 0.0, clock=clock, backoff_cap=0.05, **watcher_kw
        )
        self.filters = QueueFilters(model=MODEL)
        self.events: list[LifecycleEvent] = []
        self.stream_task: asyncio.Task[None] | None = None

    def _on_events(self, events: list[LifecycleEvent]) -> None:
        self.events.extend(events)

    def start_stream(self) -> None:
        self.stream_task = asyncio.create_task(self.watcher.run_event_stream(self._on_events))

    async def wait_stream(self, state: EventsState, timeout: float = 3.0) -> None:
        async with asyncio.timeout(timeout):
            while self.watcher.events_state is not state:
                await asyncio.sleep(0.01)

    async def poll(self) -> None:
        result = await self.client.fetch(self.filters)
        self.events.extend(await self.watcher.handle_snapshot(result))

    async def enqueue(self, n: int, **body: Any) -> list[str]:
        ids: list[str] = []
        while len(ids) < n:
            count = min(4, n - len(ids))
            ids += await self.client.enqueue(MODEL, "a test prompt", num_generations=count, **body)
        return ids

    async def enqueue_mix(self) -> list[str]:
        """Six ordinary renders, two bound to fail (a bad aspect ratio), and one that
        someone else cancels after the first round."""
        ids = await self.enqueue(6) + await self.enqueue(2, aspect_ratio="7:3")
        await self.run(rounds=1)
        extra = await self.enqueue(1)
        await self.poll()
        assert self.sim.cancel(extra[0])
        return ids + extra

    async def run(self, rounds: int, step: float = 5.0, settle: float = 0.05) -> None:
        streaming = self.stream_task is not None and not self.stream_task.done()
        for _ in range(rounds):
            self.clock.advance(step)
            if streaming:
                await asyncio.sleep(settle)  # lets the stream deliver what the step finished
            await self.poll()

    def finals(self) -> dict[str, LifecycleEvent]:
        out: dict[str, LifecycleEvent] = {}
        for event in self.events:
            if event.is_final:
                assert event.generation_id not in out, f"two outcomes for {event.generation_id}"
                out[event.generation_id] = event
        return out

    def hub_outcomes(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for status in ("succeeded", "failed", "cancelled"):
            for r in self.sim.list(model=MODEL, status=status):
                if r["generation_id"] in ids:
                    rows[r["generation_id"]] = r
        return rows

    def assert_every_outcome_matches_the_hub(self, ids: list[str]) -> dict[str, LifecycleEvent]:
        finals = self.finals()
        hub = self.hub_outcomes(ids)
        assert set(hub) == set(ids), "the scenario should finish every generation"
        assert set(finals) == set(ids)
        for gid, event in finals.items():
            truth = hub[gid]
            assert event.kind.value == truth["status"], (gid, event.source)
            if truth["status"] == "succeeded":
                assert event.generation.result_url == truth["result_url"]
            if truth["status"] == "failed":
                assert event.generation.error_message == truth["error_message"]
        assert self.tracker.pending_ids() == []
        return finals

    async def close(self) -> None:
        if self.stream_task is not None:
            task = self.stream_task
            task.cancel()
            # A cancel the stream swallows would keep it reconnecting forever: say so in
            # seconds rather than hang until the suite's timeout.
            done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE)
            if not done:
                while not task.done():
                    task.cancel()
                    await asyncio.wait({task}, timeout=0.5)
                pytest.fail("the event stream ignored its cancellation and went on")
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()


@contextlib.asynccontextmanager
async def harness(*, events: bool = True, **watcher_kw: Any) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    app = create_app(seed=7, clock=clock, events=events, tick=0.01, keepalive=0.5)
    client = QueueClient(Settings(host=DEMO, demo=True), transport=StreamingASGITransport(app))
    h = Harness(app, clock, client, **watcher_kw)
    try:
        yield h
    finally:
        await h.close()


def lifecycle_in_order(events: list[LifecycleEvent]) -> None:
    per_id: dict[str, list[int]] = {}
    for e in events:
        per_id.setdefault(e.generation_id, []).append(e.kind.order)
    for gid, orders in per_id.items():
        assert orders == sorted(orders), (gid, orders)


# -- the demo hub with its event stream on, off, and dropped -----------------------------------


async def test_with_the_event_stream_outcomes_arrive_from_it() -> None:
    async with harness() as h:
        h.start_stream()
        await h.wait_stream(EventsState.LIVE)
        await h.poll()
        ids = await h.enqueue_mix()
        await h.run(rounds=12)
        finals = h.assert_every_outcome_matches_the_hub(ids)
        assert {e.kind.value for e in finals.values()} == {"succeeded", "failed", "cancelled"}
        sources = {e.source for e in finals.values()}
        assert "events" in sources
        # The stream's outcomes carry the URL or error the moment they happen.
        assert all(e.generation.completed_at is not None for e in finals.values())
        lifecycle_in_order(h.events)
        assert h.watcher.events_received >= len(
            [e for e in finals.values() if e.source == "events"]
        )


async def test_without_the_event_stream_status_queries_resolve_everything() -> None:
    async with harness(events=False) as h:
        h.start_stream()
        await h.wait_stream(EventsState.UNAVAILABLE)
        assert h.watcher.sources["events"] == "unavailable"
        await h.poll()
        ids = await h.enqueue_mix()
        await h.run(rounds=12)
        finals = h.assert_every_outcome_matches_the_hub(ids)
        assert {e.kind.value for e in finals.values()} == {"succeeded", "failed", "cancelled"}
        assert {e.source for e in finals.values()} <= {"poll", "status-query"}
        assert h.watcher.status_queries > 0
        lifecycle_in_order(h.events)


async def test_a_stream_dropped_mid_run_still_leaves_no_row_without_outcome() -> None:
    async with harness() as h:
        h.start_stream()
        await h.wait_stream(EventsState.LIVE)
        await h.poll()
        ids = await h.enqueue_mix()
        await h.run(rounds=1)
        # The hub ends every stream and refuses to keep new ones open.
        h.app.state.stop_event.set()
        await h.run(rounds=12)
        h.assert_every_outcome_matches_the_hub(ids)
        assert h.watcher.events_reconnects >= 1
        # It keeps trying: each reconnect is briefly live before the hub ends it again,
        # so the exact state at this instant is a race; giving up would be the bug.
        assert h.watcher.events_state is not EventsState.UNAVAILABLE
        lifecycle_in_order(h.events)


async def test_a_row_no_source_can_explain_is_finished_outcome_unknown() -> None:
    async with harness(events=False) as h:
        gid = "11111111-2222-4333-8444-555555555555"
        h.sim.add_row(
            {"generation_id": gid, "model_name": MODEL, "media_type": "image", "status": "queued"}
        )
        await h.poll()
        # It leaves the list without a trace: no terminal list has it, get says 404.
        h.sim.add_row({"generation_id": gid, "model_name": MODEL, "status": "expired"})
        await h.run(rounds=3)
        finals = h.finals()
        assert finals[gid].kind is EventKind.UNKNOWN
        assert finals[gid].source == "get-404"
        assert [e.kind.value for e in h.events if e.generation_id == gid] == [
            "appeared",
            "vanished",
            "unknown",
        ]


async def test_the_watcher_cancels_and_records_it_at_once() -> None:
    async with harness(events=False) as h:
        await h.poll()
        (gid,) = await h.enqueue(1)
        await h.poll()
        outcome, events = await h.watcher.cancel(gid)
        assert outcome.value == "cancelled"
        assert [(e.kind, e.source) for e in events] == [(EventKind.CANCELLED, "cancel")]
        await h.run(rounds=2)
        assert [e.kind.value for e in h.events if e.generation_id == gid] == ["appeared"]
        outcome, events = await h.watcher.cancel(gid)
        assert outcome.value == "already_finished" and events == []


async def test_a_live_stream_gets_one_round_of_grace_before_status_queries() -> None:
    async with harness() as h:
        h.start_stream()
        await h.wait_stream(EventsState.LIVE)
        gid = "22222222-2222-4333-8444-555555555555"
        h.sim.add_row({"generation_id": gid, "model_name": MODEL, "status": "processing"})
        await h.poll()
        h.sim.add_row(
            {"generation_id": gid, "model_name": MODEL, "status": "cancelled", "completed_at": 1}
        )
        await h.poll()  # vanished: the stream might still tell
        assert h.tracker.is_pending(gid)
        assert h.watcher.status_queries == 0
        await h.poll()  # nothing came: ask the cancelled list
        assert h.finals()[gid].kind is EventKind.CANCELLED
        assert h.finals()[gid].source == "status-query"


async def test_watched_ids_not_listed_yet_are_looked_up() -> None:
    async with harness(events=False) as h:
        await h.poll()
        ids = await h.enqueue(2)
        for gid in ids:
            h.tracker.watch(gid)
        # Finished before any poll listed them: the terminal lists still tell.
        h.clock.advance(600)
        await h.poll()
        h.assert_every_outcome_matches_the_hub(ids)


# -- stubbed hubs lacking sources --------------------------------------------------------------


def stub_settings() -> Settings:
    return Settings(host=HOST, token="tok", token_source="--token")


def active_page(*ids: str) -> dict[str, Any]:
    rows = [
        {"generation_id": g, "model_name": "m", "status": "processing", "enqueued_at": START}
        for g in ids
    ]
    return {"count": len(rows), "generations": rows}


@respx.mock
async def test_status_queries_refused_fall_back_to_get_404(respx_mock: respx.Router) -> None:
    pages = iter([active_page("a"), active_page()])

    def queue(request: httpx.Request) -> httpx.Response:
        if "status" in request.url.params:
            body = {"error": {"type": "invalid_params", "title": "bad status"}}
            return httpx.Response(422, json=body)
        return httpx.Response(200, json=next(pages))

    respx_mock.get(f"{HOST}/api/ai/queue").mock(side_effect=queue)
    get = respx_mock.get(f"{HOST}/api/ai/queue/a").respond(404)
    respx_mock.get(f"{HOST}/api/ai/generations/a").respond(404)
    async with QueueClient(stub_settings()) as client:
        tracker = Tracker(clock=lambda: START)
        watcher = LifecycleWatcher(client, tracker, 0.0, events=False)
        events = await watcher.handle_snapshot(await client.fetch())
        events += await watcher.handle_snapshot(await client.fetch())
    assert not watcher.status_queries_available
    assert get.called
    assert [(e.kind.value, e.source) for e in events] == [
        ("appeared", "poll"),
        ("vanished", "poll"),
        ("unknown", "get-404"),
    ]


@respx.mock
async def test_with_no_source_at_all_a_vanished_row_is_unknown_at_once(
    respx_mock: respx.Router,
) -> None:
    pages = iter([active_page("a"), active_page()])

    def queue(request: httpx.Request) -> httpx.Response:
        if "status" in request.url.params:  # no terminal lists on this hub
            return httpx.Response(404)
        return httpx.Response(200, json=next(pages))

    respx_mock.get(f"{HOST}/api/ai/queue").mock(side_effect=queue)
    respx_mock.get(f"{HOST}/api/ai/queue/a").respond(405)
    respx_mock.get(f"{HOST}/api/ai/generations/a").respond(405)
    respx_mock.get(f"{HOST}/api/events").respond(404)
    async with QueueClient(stub_settings()) as client:
        tracker = Tracker(clock=lambda: START)
        watcher = LifecycleWatcher(client, tracker, 0.0)
        await watcher.run_event_stream(lambda events: None)  # returns: no stream here
        assert watcher.events_state is EventsState.UNAVAILABLE
        events = await watcher.handle_snapshot(await client.fetch())
        events += await watcher.handle_snapshot(await client.fetch())
        assert watcher.sources == {
            "events": "unavailable",
            "status=succeeded": "unavailable",
            "status=failed": "unavailable",
            "status=cancelled": "unavailable",
            "history": "unavailable",
            "get": "unavailable",
        }
        assert [e.kind.value for e in events][-1] == "unknown"
        assert tracker.get("a").state is RowState.FINISHED


@respx.mock
async def test_transient_status_query_failures_are_retried_not_fatal(
    respx_mock: respx.Router,
) -> None:
    """The failed list errors once: the other lists are still asked, nothing is
    concluded from the error (no get-by-id, no unknown), and the next round finds it."""
    calls: dict[str, int] = {}

    def queue(request: httpx.Request) -> httpx.Response:
        status = request.url.params.get("status")
        if status is None:
            return httpx.Response(200, json=active_page())
        calls[status] = calls.get(status, 0) + 1
        if status == "failed" and calls[status] == 1:
            return httpx.Response(503)
        rows = (
            []
            if status != "failed"
            else [{"generation_id": "a", "status": "failed", "error_message": "boom"}]
        )
        return httpx.Response(200, json={"count": len(rows), "generations": rows})

    respx_mock.get(f"{HOST}/api/ai/queue").mock(side_effect=queue)
    get = respx_mock.get(f"{HOST}/api/ai/queue/a").respond(404)
    async with QueueClient(stub_settings()) as client:
        tracker = Tracker(clock=lambda: START)
        tracker.add_history([], START)
        watcher = LifecycleWatcher(client, tracker, 0.0, events=False)
        tracker.observe([Generation(generation_id="a", status="processing")], START)
        tracker.observe([], START)
        first = await watcher.resolve()
        assert first == [] and watcher.status_queries_available
        assert calls == {"succeeded": 1, "failed": 1, "cancelled": 1}
        assert tracker.is_pending("a")
        second = await watcher.resolve(force=True)
    assert not get.called
    assert [(e.kind.value, e.generation.error_message) for e in second] == [("failed", "boom")]


# -- the history as an outcome source ------------------------------------------------------------

Responder = Any  # an httpx.Response, or a callable making one (respx's side_effect)


def hub_past_the_lists(respx_mock: respx.Router, history: Responder) -> respx.Route:
    """Rows that left the queue and the lists' retention: every `status=` list and
    get-by-id answer without them; the history answers `history`. Returns its route."""

    def queue(request: httpx.Request) -> httpx.Response:
        if "status" in request.url.params:
            return httpx.Response(200, json={"count": 0, "generations": []})
        return httpx.Response(200, json=active_page())

    respx_mock.get(f"{HOST}/api/ai/queue").mock(side_effect=queue)
    respx_mock.get(url__regex=rf"^{HOST}/api/ai/queue/\w+$").respond(404)
    route = respx_mock.get(url__regex=rf"^{HOST}/api/ai/generations/\w+$")
    if isinstance(history, httpx.Response):
        return route.mock(return_value=history)
    return route.mock(side_effect=history)


async def vanish_and_resolve(
    client: QueueClient, ids: tuple[str, ...], rounds: int = 3
) -> tuple[LifecycleWatcher, list[LifecycleEvent]]:
    tracker = Tracker(clock=lambda: START)
    watcher = LifecycleWatcher(client, tracker, 0.0, events=False)
    tracker.observe([Generation(generation_id=g, status="processing") for g in ids], START)
    tracker.observe([], START)
    events: list[LifecycleEvent] = []
    for _ in range(rounds):
        events += await watcher.resolve(force=True)
    return watcher, events


def past_row(gid: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"generation": {"generation_id": gid, "status": status, **fields}, "status": "success"}


@respx.mock
async def test_the_history_tells_an_outcome_the_lists_no_longer_have(
    respx_mock: respx.Router,
) -> None:
    hub_past_the_lists(
        respx_mock, httpx.Response(200, json=past_row("a", "failed", error_message="boom"))
    )
    async with QueueClient(stub_settings()) as client:
        watcher, events = await vanish_and_resolve(client, ("a",))
    finals = [(e.kind.value, e.source, e.generation.error_message) for e in events if e.is_final]
    assert finals == [("failed", "history", "boom")]
    # Asked before get-by-id, it spared that request.
    assert watcher.gets == 0


@respx.mock
async def test_a_history_404_is_an_answer_without_it(respx_mock: respx.Router) -> None:
    history = hub_past_the_lists(respx_mock, httpx.Response(404))
    async with QueueClient(stub_settings()) as client:
        watcher, events = await vanish_and_resolve(client, ("a",))
    (final,) = [e for e in events if e.is_final]
    assert (final.kind, final.source) == (EventKind.UNKNOWN, "get-404")
    assert "the history's outcomes" in (final.reason or "")
    assert history.called and watcher.sources["history"] == "available"


@pytest.mark.parametrize("code", [405, 501])
@respx.mock
async def test_a_hub_without_the_history_does_not_hold_back_unknown(
    respx_mock: respx.Router, code: int
) -> None:
    history = hub_past_the_lists(respx_mock, httpx.Response(code))
    async with QueueClient(stub_settings()) as client:
        watcher, events = await vanish_and_resolve(client, ("a", "b"))
    finals = {e.generation_id: e for e in events if e.is_final}
    assert {g: e.kind for g, e in finals.items()} == {
        "a": EventKind.UNKNOWN,
        "b": EventKind.UNKNOWN,
    }
    assert all("history" not in (e.reason or "") for e in finals.values())
    assert watcher.sources["history"] == "unavailable"
    assert history.call_count == 1  # off for the session, not asked per id or per round


@respx.mock
async def test_a_history_fault_keeps_the_row_pending_until_it_answers(
    respx_mock: respx.Router,
) -> None:
    answers = iter(
        [httpx.Response(503)] * 4 + [httpx.Response(200, json=past_row("a", "cancelled"))]
    )
    hub_past_the_lists(respx_mock, lambda request: next(answers))
    async with QueueClient(stub_settings()) as client:
        watcher, events = await vanish_and_resolve(client, ("a",), rounds=5)
        assert [e for e in events if e.is_final] == []
        assert watcher.tracker.is_pending("a")
        evidence = watcher.evidence("a")
        assert evidence is not None and "503" in (evidence.last_fault or "")
        assert "history" not in evidence.misses  # a fault is not an answer
        events = await watcher.resolve(force=True)
    assert [(e.kind, e.source) for e in events if e.is_final] == [(EventKind.CANCELLED, "history")]


@respx.mock
async def test_a_history_row_still_in_flight_is_no_evidence(respx_mock: respx.Router) -> None:
    hub_past_the_lists(respx_mock, httpx.Response(200, json=past_row("a", "processing")))
    async with QueueClient(stub_settings()) as client:
        watcher, events = await vanish_and_resolve(client, ("a",))
        assert [e for e in events if e.is_final] == []
        assert watcher.tracker.is_pending("a")


class ScriptedHub:
    """Answers every list empty and every get with 404, or fails everything (`down`)."""

    settings = stub_settings()

    def __init__(self) -> None:
        self.down = False
        self.rounds: list[float] = []
        self.now = [100.0]

    async def fetch(self, filters: QueueFilters) -> Any:
        if filters.status == "succeeded":
            self.rounds.append(self.now[0])
        if self.down:
            raise ServerError("hub error 503", status_code=503)
        return FetchResult(QueuePage(count=0, generations=[]), 0.0, 0.0, filters)

    async def get(self, generation_id: str) -> Any:
        if self.down:
            raise ServerError("hub error 503", status_code=503)
        return None

    get_generation = get


async def test_resolution_runs_at_most_once_per_interval() -> None:
    hub = ScriptedHub()
    tracker = Tracker(clock=lambda: START)
    tracker.watch("x")
    watcher = LifecycleWatcher(
        cast(Any, hub), tracker, 2.0, events=False, monotonic=lambda: hub.now[0]
    )
    await watcher.resolve()
    await watcher.resolve()
    hub.now[0] += 1.0
    await watcher.resolve()
    assert len(hub.rounds) == 1
    hub.now[0] += 1.5
    await watcher.resolve()
    assert len(hub.rounds) == 2


async def test_while_every_source_fails_rounds_back_off_like_polls() -> None:
    """Asked again with the poller's backoff (full jitter, growing to the cap), and
    nothing is concluded from the faults: the id is not 'never listed'."""
    hub = ScriptedHub()
    hub.down = True
    tracker = Tracker(clock=lambda: START)
    tracker.watch("x")
    watcher = LifecycleWatcher(
        cast(Any, hub),
        tracker,
        2.0,
        events=False,
        monotonic=lambda: hub.now[0],
        rng=random.Random(3),
        backoff_cap=30.0,
    )
    for _ in range(600):  # five simulated minutes, a call every half second
        assert await watcher.resolve() == []
        hub.now[0] += 0.5
    gaps = [b - a for a, b in itertools.pairwise(hub.rounds)]
    assert len(hub.rounds) < 30  # not every 2 s: 150 rounds
    assert all(2.0 <= g <= 30.5 for g in gaps)
    assert max(gaps[-5:]) > 10.0  # the ceiling grew
    assert not watcher.never_listed("x", since=0.0)
    hub.down = False
    hub.now[0] += 31.0
    await watcher.resolve()
    assert watcher.never_listed("x", since=hub.now[0] - 1)


# -- the event stream client ----------------------------------------------------------------------


SSE = "text/event-stream"


@respx.mock
async def test_stream_ignores_other_events_and_garbage(respx_mock: respx.Router) -> None:
    body = (
        ": keep-alive\n\n"
        'event: workspace_updated\ndata: {"generation_id": "a", "status": "failed"}\n\n'
        "event: media_generation_completed\ndata: not json\n\n"
        "event: media_generation_completed\ndata: [1, 2]\n\n"
        'event: media_generation_completed\ndata: {"generation_id": "a", "status": "succeeded",'
        ' "url": "https://hub/a.png"}\n\n'
    )
    respx_mock.get(f"{HOST}/api/events").mock(
        side_effect=[
            httpx.Response(200, headers={"content-type": SSE}, text=body),
            httpx.Response(404),
        ]
    )
    async with QueueClient(stub_settings()) as client:
        tracker = Tracker(clock=lambda: START)
        tracker.observe([Generation(generation_id="a", status="processing")], START)
        got: list[LifecycleEvent] = []
        watcher = LifecycleWatcher(client, tracker, 2.0, backoff_cap=0.01)
        await watcher.run_event_stream(got.extend)
    assert [(e.kind.value, e.generation.result_url) for e in got] == [
        ("succeeded", "https://hub/a.png")
    ]
    assert watcher.events_reconnects == 1  # the first stream ended; the second was a 404
    assert watcher.events_state is EventsState.UNAVAILABLE


@respx.mock
async def test_stream_retries_server_errors_with_backoff(respx_mock: respx.Router) -> None:
    route = respx_mock.get(f"{HOST}/api/events").mock(
        side_effect=[httpx.Response(502), httpx.ConnectError("refused"), httpx.Response(405)]
    )
    states: list[EventsState] = []
    async with QueueClient(stub_settings()) as client:
        watcher = LifecycleWatcher(client, Tracker(), 2.0, backoff_cap=0.01)
        await watcher.run_event_stream(lambda events: None, on_state=states.append)
    assert route.call_count == 3
    assert states == [
        EventsState.RETRYING,
        EventsState.CONNECTING,
        EventsState.RETRYING,
        EventsState.CONNECTING,
        EventsState.UNAVAILABLE,
    ]


@respx.mock
async def test_a_non_sse_answer_means_no_stream(respx_mock: respx.Router) -> None:
    respx_mock.get(f"{HOST}/api/events").respond(200, html="<html>login</html>")
    async with QueueClient(stub_settings()) as client:
        watcher = LifecycleWatcher(client, Tracker(), 2.0)
        await watcher.run_event_stream(lambda events: None)
    assert watcher.events_state is EventsState.UNAVAILABLE


async def test_stream_off_does_nothing() -> None:
    watcher = LifecycleWatcher(None, Tracker(), 2.0, events=False)  # type: ignore[arg-type]
    await watcher.run_event_stream(lambda events: None)
    assert watcher.events_state is EventsState.OFF


# -- cancel from the CLI -------------------------------------------------------------------------


@respx.mock
def test_cli_cancel_reports_each_id(respx_mock: respx.Router, isolated_env: Any) -> None:
    respx_mock.delete(f"{HOST}/api/ai/queue/a1").respond(
        200, json={"status": "success", "generation_id": "a1"}
    )
    respx_mock.delete(f"{HOST}/api/ai/queue/b2").respond(
        404, json={"error": {"type": "resource_not_found", "title": "x"}, "status": "error"}
    )
    ok = CliRunner().invoke(cli.main, ["cancel", "a1", "--host", HOST, "--token", "t"])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout == "cancelled a1\n"
    mixed = CliRunner().invoke(cli.main, ["cancel", "a1", "b2", "--host", HOST, "--token", "t"])
    assert mixed.exit_code == 1
    assert mixed.stdout == "cancelled a1\nb2 already finished\n"


@respx.mock
def test_cli_cancel_refused_in_read_only_mode(respx_mock: respx.Router, isolated_env: Any) -> None:
    route = respx_mock.delete(f"{HOST}/api/ai/queue/a1").respond(200, json={})
    flag = CliRunner().invoke(cli.main, ["--read-only", "cancel", "a1", "--host", HOST])
    assert flag.exit_code == 2
    assert "read-only" in flag.stderr
    (isolated_env / "config.toml").write_text("read_only = true\n")
    conf = CliRunner().invoke(cli.main, ["cancel", "a1", "--host", HOST])
    assert conf.exit_code == 2
    assert not route.called


@respx.mock
def test_cli_cancel_hub_errors_use_their_exit_code(
    respx_mock: respx.Router, isolated_env: Any
) -> None:
    respx_mock.delete(f"{HOST}/api/ai/queue/a1").respond(401)
    result = CliRunner().invoke(cli.main, ["cancel", "a1", "--host", HOST, "--token", "t"])
    assert result.exit_code == 4
    assert "Traceback" not in result.output


def test_cli_refuses_ids_that_are_not_ids(isolated_env: Any) -> None:
    result = CliRunner().invoke(cli.main, ["cancel", "../../api/events", "--host", HOST])
    assert result.exit_code == 2
    assert "not a generation id" in result.stderr


@pytest.mark.parametrize(
    ("refused", "code", "lists_left"),
    [
        ("succeeded", 404, set()),  # the lists' one path is missing: all off
        ("succeeded", 501, set()),  # not implemented there (a replay's "not recorded")
        ("cancelled", 422, {"status=succeeded", "status=failed"}),  # this value only
        ("failed", 503, {"status=succeeded", "status=failed", "status=cancelled"}),
    ],
)
@respx.mock
async def test_which_lists_a_refusal_turns_off(
    respx_mock: respx.Router, refused: str, code: int, lists_left: set[str]
) -> None:
    asked: list[str] = []

    def queue(request: httpx.Request) -> httpx.Response:
        status = request.url.params["status"]
        asked.append(status)
        if status == refused:
            return httpx.Response(code)
        return httpx.Response(200, json={"count": 0, "generations": []})

    respx_mock.get(f"{HOST}/api/ai/queue").mock(side_effect=queue)
    async with QueueClient(stub_settings()) as client:
        watcher = LifecycleWatcher(client, Tracker(clock=lambda: START), 0.0, events=False)
        await watcher.backfill(QueueFilters())
    on = {name for name, state in watcher.sources.items() if state == "available"}
    assert on - {"get", "history"} == lists_left
    if code in (404, 501):
        assert asked == [refused]  # the others were not asked in vain
