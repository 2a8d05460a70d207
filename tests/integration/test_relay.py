"""`queue-tui serve` over real loopback sockets: a relay in front of the demo hub, viewers
in front of the relay, requests counted at the hub."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from queue_tui.api.client import RELAY_ACTIONS_HEADER, QueueClient
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings
from queue_tui.core.outcomes import COMPLETED_EVENT, EventsState, LifecycleWatcher
from queue_tui.core.tracker import Tracker
from queue_tui.demo.clock import FakeClock
from queue_tui.relay.app import RELAY_HEADER, ViewerTokens
from queue_tui.relay.state import OUTCOME_EVENT
from tests.integration.relay_kit import (
    HUB_TOKEN,
    INTERVAL,
    START,
    Hub,
    RelayServer,
    make_relay,
    until,
    wait_until,
)

VIEWER_TOKEN = "viewer-token-abcdefghijklmnop"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def hub(clock: FakeClock) -> Iterator[Hub]:
    h = Hub(clock)
    with h.server:
        yield h


@pytest.fixture
def relay(hub: Hub, clock: FakeClock) -> Iterator[RelayServer]:
    with RelayServer(make_relay(hub.url, clock)) as server:
        wait_until(lambda: server.relay.polls >= 1)
        yield server


def _viewer(url: str, token: str | None = None) -> QueueClient:
    return QueueClient(Settings(host=url, token=token, timeout=5.0))


def _ids(rows: list) -> set[str]:
    return {g.generation_id for g in rows}


def test_many_viewers_cost_the_hub_one_pollers_requests(hub: Hub, relay: RelayServer) -> None:
    window = 3.0

    async def viewers() -> int:
        requests = 0

        async def list_loop() -> None:
            nonlocal requests
            async with _viewer(relay.url) as client:
                end = time.monotonic() + window
                while time.monotonic() < end:
                    await client.fetch()
                    requests += 1
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(list_loop() for _ in range(20)))
        return requests

    before = hub.total()
    served = asyncio.run(viewers())
    upstream = hub.total() - before
    polls = window / INTERVAL + 2
    # One poller: its polls, and at most a terminal list per status per round.
    assert upstream <= 4 * polls, hub.counts
    assert served >= 10 * upstream
    # Nothing of the viewers' went past the relay: every hub request is the relay's own.
    assert hub.counts["/api/ai/queue"] >= window / INTERVAL - 1


def test_viewers_see_the_hubs_rows_and_outcomes(
    hub: Hub, relay: RelayServer, clock: FakeClock
) -> None:
    async def compare() -> None:
        async with _viewer(relay.url) as via, _viewer(hub.url) as direct:
            assert _ids((await via.fetch()).page.generations) == _ids(
                (await direct.fetch()).page.generations
            )
            polls = relay.relay.polls
            clock.advance(90)  # generations finish
            while relay.relay.polls < polls + 2:
                await asyncio.sleep(0.05)
            rows = (await via.fetch()).page.generations
            assert _ids(rows) == _ids((await direct.fetch()).page.generations)
            # What finished is listed under its terminal status, as the hub lists it.
            finished = [e for e in relay.relay.tracker.tracked() if e.generation.is_terminal]
            assert finished
            for status in ("succeeded", "failed"):
                mine = _ids((await via.fetch(QueueFilters(status=status))).page.generations)
                truth = _ids((await direct.fetch(QueueFilters(status=status))).page.generations)
                seen = {e.generation_id for e in finished if e.generation.status == status}
                assert seen <= mine <= truth
            one = next(iter(finished)).generation
            got = await via.get(one.generation_id)
            assert got is not None and got.status == one.status

    asyncio.run(compare())


def _sse(url: str, headers: dict[str, str] | None = None, *, until: int) -> list[dict]:
    """Read events (not keep-alives) until `until` of them came."""
    events: list[dict] = []
    with httpx.stream("GET", f"{url}/api/events", headers=headers, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        current: dict = {}
        for line in response.iter_lines():
            if not line:
                if "event" in current:
                    events.append(current)
                    if len(events) >= until:
                        break
                current = {}
                continue
            key, _, value = line.partition(": ")
            current[key] = value
    return events


def test_events_carry_ids_and_replay_what_a_viewer_missed(
    hub: Hub, relay: RelayServer, clock: FakeClock
) -> None:
    clock.advance(120)
    log = relay.relay.log
    wait_until(lambda: len(log.since(f"{log.run_id}-0")[0]) >= 6)
    buffered, gap = log.since(f"{log.run_id}-0")
    assert not gap
    first = _sse(relay.url, {"Last-Event-ID": f"{log.run_id}-0"}, until=len(buffered))
    assert [e["id"] for e in first] == [log.event_id(i) for i in buffered]
    assert all(e["event"] in ("media_generation_completed", OUTCOME_EVENT) for e in first)
    # Reconnecting from the third: exactly the ones after it.
    third = first[2]["id"]
    again = _sse(relay.url, {"Last-Event-ID": third}, until=len(buffered) - 3)
    assert [e["id"] for e in again] == [e["id"] for e in first[3:]]
    # From another run of the relay: told so first.
    gap_events = _sse(relay.url, {"Last-Event-ID": "older-run-5"}, until=1)
    assert gap_events[0]["event"] == "queue_tui_replay_gap"


def test_metrics_parse_and_agree_with_the_events(
    hub: Hub, relay: RelayServer, clock: FakeClock
) -> None:
    clock.advance(120)
    log = relay.relay.log
    wait_until(lambda: len(log.since(f"{log.run_id}-0")[0]) >= 3)
    before = len(log.since(f"{log.run_id}-0")[0])
    text = httpx.get(f"{relay.url}/metrics").text
    after = len(log.since(f"{log.run_id}-0")[0])
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in (
        "queue_tui_queue_length",
        "queue_tui_generations_finished",
        "queue_tui_generation_queue_wait_seconds",
        "queue_tui_generation_runtime_seconds",
        "queue_tui_oldest_queued_age_seconds",
        "queue_tui_upstream_poll_errors",
        "queue_tui_upstream_poll_duration_seconds",
        "queue_tui_upstream_last_good_poll_timestamp_seconds",
        "queue_tui_upstream_event_stream_connected",
        "queue_tui_viewers_connected",
    ):
        assert name in families, name
    finished = sum(
        s.value
        for s in families["queue_tui_generations_finished"].samples
        if s.name.endswith("_total")
    )
    # Every final outcome is counted once and handed to viewers once.
    assert 3 <= before <= finished <= after
    runtime_count = sum(
        s.value
        for s in families["queue_tui_generation_runtime_seconds"].samples
        if s.name.endswith("_count")
    )
    succeeded_or_failed = sum(
        s.value
        for s in families["queue_tui_generations_finished"].samples
        if s.name.endswith("_total") and s.labels["outcome"] in ("succeeded", "failed")
    )
    assert 0 < runtime_count <= succeeded_or_failed
    depth = sum(s.value for s in families["queue_tui_queue_length"].samples)
    assert depth == len(relay.relay.last_rows)
    labels = {k for f in families.values() for s in f.samples for k in s.labels}
    assert labels <= {"model", "media_type", "status", "outcome", "kind", "le", "purpose"}


def test_the_hub_token_is_in_no_answer(hub: Hub, relay: RelayServer, clock: FakeClock) -> None:
    clock.advance(60)
    wait_until(lambda: relay.relay.log.viewers == 0 and relay.relay.polls >= 3)
    some_id = relay.relay.last_rows[0].generation_id
    bodies = []
    with httpx.Client(base_url=relay.url, timeout=5) as http:
        for path in (
            "/api/ai/queue",
            "/api/ai/queue?status=succeeded",
            "/api/ai/queue?model=other-model",
            f"/api/ai/queue/{some_id}",
            "/api/ai/queue/nope",
            "/api/ai/generations?page_size=5",
            "/healthz",
            "/metrics",
        ):
            response = http.get(path)
            assert response.headers[RELAY_HEADER]
            bodies.append(response.text + str(response.headers))
        bodies.append(http.delete(f"/api/ai/queue/{some_id}").text)
    bodies.append(json.dumps(_sse(relay.url, {"Last-Event-ID": "x-0"}, until=1)))
    assert f"Bearer {HUB_TOKEN}" in hub.auth  # the relay did send it, to the hub
    for body in bodies:
        assert HUB_TOKEN not in body


def test_writes_are_refused_unless_allowed(hub: Hub, relay: RelayServer) -> None:
    gid = relay.relay.last_rows[0].generation_id
    response = httpx.delete(f"{relay.url}/api/ai/queue/{gid}")
    assert response.status_code == 405
    assert response.headers[RELAY_ACTIONS_HEADER] == "off"  # said on every answer
    assert "read-only" in response.json()["error"]["title"]
    assert httpx.post(f"{relay.url}/api/ai/queue", json={}).status_code == 405
    assert hub.counts[f"/api/ai/queue/{gid}"] == 0


def test_viewer_tokens_are_checked_on_every_request(hub: Hub, clock: FakeClock) -> None:
    tokens = ViewerTokens({VIEWER_TOKEN: "alice"})
    with RelayServer(make_relay(hub.url, clock), tokens=tokens) as server:
        wait_until(lambda: server.relay.polls >= 1)
        for path in ("/api/ai/queue", "/metrics", "/healthz", "/api/events"):
            response = httpx.get(f"{server.url}{path}", headers={"Authorization": "Bearer wrong"})
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")

        async def as_viewer() -> int:
            async with _viewer(server.url, token=VIEWER_TOKEN) as client:
                return len((await client.fetch()).page.generations)

        assert asyncio.run(as_viewer()) == len(server.relay.last_rows)


def test_healthz_turns_503_when_the_hub_goes_away(clock: FakeClock) -> None:
    hub = Hub(clock)
    hub.server.start()
    try:
        with RelayServer(make_relay(hub.url, clock)) as server:
            wait_until(lambda: httpx.get(f"{server.url}/healthz").status_code == 200)
            hub.server.stop()
            wait_until(lambda: httpx.get(f"{server.url}/healthz").status_code == 503)
            body = httpx.get(f"{server.url}/healthz").json()
            assert body["status"] == "unhealthy"
            assert "last good poll" in body["reason"]
            # The relay does not serve a stale queue as if it were fresh.
            assert httpx.get(f"{server.url}/api/ai/queue").status_code == 503
    finally:
        hub.server.stop()


def test_a_watcher_that_reconnects_gets_exactly_the_events_it_missed(
    hub: Hub, relay: RelayServer, clock: FakeClock
) -> None:
    log = relay.relay.log

    def completed_after(last_id: str, upto: str | None = None) -> list[str]:
        items, gap = log.since(last_id)
        assert not gap
        ids = [log.event_id(i) for i in items if i.event == COMPLETED_EVENT]
        if upto is not None:
            ids = [i for i in ids if int(i.rpartition("-")[2]) <= int(upto.rpartition("-")[2])]
        return ids

    async def watch() -> None:
        async with _viewer(relay.url) as client:
            watcher = LifecycleWatcher(client, Tracker(clock=clock), INTERVAL, backoff_cap=0.05)

            async def session(done: Callable[[], bool], what: str) -> None:
                task = asyncio.create_task(watcher.run_event_stream(lambda events: None))
                try:
                    await until(done, what)
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

            def one_event() -> bool:
                if watcher.events_state is not EventsState.LIVE:
                    return False
                if watcher.events_received == 0:
                    clock.advance(5)  # only once subscribed: till a generation finishes
                return watcher.events_received > 0

            await session(one_event, "a first completion event")
            left_at, received = watcher.last_event_id, watcher.events_received
            assert left_at is not None
            # Away: generations finish and the relay hands their events to nobody.
            clock.advance(120)
            await until(lambda: len(completed_after(left_at)) >= 3, "events while away")
            missed = completed_after(left_at)
            await session(
                lambda: watcher.last_event_id == log.event_id(list(log.since(left_at)[0])[-1]),
                "the replay",
            )
            # Exactly what it missed (and what came live after it), each once.
            got = completed_after(left_at, upto=watcher.last_event_id)
            assert set(missed) <= set(got)
            assert watcher.events_received - received == len(got)
            assert watcher.events_gaps == 0

    asyncio.run(watch())


def test_a_dashboard_pointed_at_a_relay_says_via_relay_and_the_relays_trouble(
    hub: Hub, relay: RelayServer
) -> None:
    from queue_tui.tui.app import QueueApp
    from queue_tui.tui.widgets.status_bar import StatusBar
    from tests.ui.on_screen import screen_lines, toasts_shown, widget_lines

    async def run() -> tuple[str, str]:
        settings = Settings(host=relay.url, interval=INTERVAL, timeout=5.0)
        app = QueueApp(settings, client=QueueClient(settings), remember=False)
        async with app.run_test(size=(120, 30), notifications=True) as pilot:
            await until(lambda: app.polls > 0, "the first poll")
            await pilot.pause()
            fine = "\n".join(widget_lines(app, app.query_one(StatusBar)))
            # This relay forwards no actions: the footer says so and offers none.
            footer = screen_lines(app)[-1]
            assert "read-only" in footer and "Cancel" not in footer, footer
            await pilot.press("delete")
            assert any("the relay forwards no actions" in t for t in await toasts_shown(pilot))
            # The hub goes away behind the relay: the relay's rows stop being fresh.
            await asyncio.to_thread(hub.server.stop)
            await until(lambda: "upstream" in app.query_one(StatusBar).text, "the relay's word")
            await pilot.pause()
            return fine, "\n".join(widget_lines(app, app.query_one(StatusBar)))

    fine, trouble = asyncio.run(run())
    assert "127.0.0.1" in fine and "via relay" in fine and "upstream" not in fine, fine
    assert re.search(r"via relay · upstream stale \d+s \(unreachable\)", trouble), trouble
