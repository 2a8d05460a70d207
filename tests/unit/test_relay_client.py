"""The viewer's side of a relay: the client tells a relay's answers from a hub's, the
status bar says "via relay", and the event stream resumes from the last id it saw."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import respx

from queue_tui.api.client import RELAY_HEADER, QueueClient
from queue_tui.api.models import Generation
from queue_tui.config import Settings
from queue_tui.core.outcomes import LifecycleWatcher
from queue_tui.core.status import StatusState
from queue_tui.core.tracker import LifecycleEvent, Tracker
from queue_tui.tui.widgets.status_bar import render_state_line

HOST = "https://relay.test"
START = 1_764_000_000.0
SSE = {"content-type": "text/event-stream"}


def settings() -> Settings:
    return Settings(host=HOST, token="tok", token_source="--token")


def page(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(rows), "generations": list(rows)}


def row(gid: str, status: str = "processing") -> dict[str, Any]:
    return {"generation_id": gid, "model_name": "m", "status": status, "enqueued_at": START}


def test_the_host_reads_via_relay_down_to_60_columns() -> None:
    state = StatusState(
        host="relay.team.internal:8790",
        since_ok=0.0,
        latency=0.02,
        counts=Counter(processing=12, queued=45, failed=1, succeeded=7),
        shown=65,
        total=65,
        polls=3,
        events="live",
    )
    assert "via relay" not in render_state_line(state, 160).plain
    state.via_relay = "0.9.0"
    assert "relay.team.internal:8790 via relay" in render_state_line(state, 160).plain
    narrow = render_state_line(state, 60).plain
    # The declared order still fits the bar: what the rows do stays, the host gives way.
    assert len(narrow) <= 58 and "live" in narrow and "▶12" in narrow


@respx.mock
async def test_the_client_notices_which_answers_came_from_a_relay(
    respx_mock: respx.Router,
) -> None:
    respx_mock.get(f"{HOST}/api/ai/queue").mock(
        side_effect=[
            httpx.Response(200, json=page(), headers={RELAY_HEADER: "0.9.0"}),
            httpx.Response(200, json=page()),
        ]
    )
    async with QueueClient(settings()) as client:
        assert client.via_relay is None
        await client.fetch()
        assert client.via_relay == "0.9.0"
        await client.fetch()  # the host is a hub again (a relay replaced by the hub)
        assert client.via_relay is None


@respx.mock
async def test_the_stream_resumes_from_the_last_id_and_a_gap_asks_the_lists(
    respx_mock: respx.Router,
) -> None:
    sent: list[str | None] = []
    streams = iter(
        [
            # A relay's stream: an id on every event, then the connection drops.
            'id: run1-1\nevent: media_generation_completed\ndata: {"generation_id": "a",'
            ' "status": "succeeded"}\n\nid: run1-2\nevent: queue_tui_outcome\ndata: {}\n\n',
            # The relay restarted: the id is from its earlier run, so events were lost.
            "id: run2-0\nevent: queue_tui_replay_gap\ndata: {}\n\n: keep-alive\n\n",
            # A hub behind the same name again: no ids, nothing to resume from.
            'event: media_generation_completed\ndata: {"generation_id": "c", "status":'
            ' "failed"}\n\n',
        ]
    )

    def events(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("last-event-id"))
        body = next(streams, None)
        if body is None:
            return httpx.Response(404)
        return httpx.Response(200, headers={**SSE, RELAY_HEADER: "0.9.0"}, text=body)

    def queue(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("status") == "succeeded":
            return httpx.Response(200, json=page(row("b", "succeeded")))
        return httpx.Response(200, json=page())

    respx_mock.get(f"{HOST}/api/events").mock(side_effect=events)
    respx_mock.get(f"{HOST}/api/ai/queue").mock(side_effect=queue)
    async with QueueClient(settings()) as client:
        tracker = Tracker(clock=lambda: START)
        rows = [Generation(generation_id=g, status="processing") for g in "abc"]
        tracker.observe(rows, START)
        tracker.observe([rows[0], rows[2]], START + 1)  # b vanished: its event was lost
        got: list[LifecycleEvent] = []
        watcher = LifecycleWatcher(client, tracker, 2.0, backoff_cap=0.01)
        await watcher.run_event_stream(got.extend)
    # Each reconnect names the last id seen (of any event type); none before the first.
    assert sent == [None, "run1-2", "run2-0", "run2-0"]
    assert watcher.events_gaps == 1
    assert [(e.generation_id, e.kind.value, e.source) for e in got if e.is_final] == [
        ("a", "succeeded", "events"),
        ("b", "succeeded", "status-query"),
        ("c", "failed", "events"),
    ]
