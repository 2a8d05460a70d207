"""The fault suite, on the real dashboard: every way a hub can fail, table-driven.

For each fault the app keeps running, keeps the last good rows (dimmed, with a stale
badge giving their age), shows a short human sentence and a "retrying in Ns" countdown
in the status bar, and the poller waits as long as it announced: backoff that grows,
Retry-After honoured, one slow retry a minute after a 401/403. No storm: the gaps
between the requests the hub actually saw are checked against the announced delays.

The hub is the seeded demo hub behind `FaultyHub`, an httpx transport that, while a
fault is set, answers queue polls with it (HTTP faults come from the demo's own
`ChaosMiddleware`, transport faults are raised like httpx raises them).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings
from queue_tui.core.poller import AUTH_RETRY_DELAY, Poller, PollFailed, PollOutcome
from queue_tui.demo.chaos import ChaosMiddleware, malformed_rows
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import FROZEN_INTERVAL, SteadyClient
from queue_tui.tui.app import QueueApp
from tests.ui.conftest import FakeMonotonic, first_poll, poll, wait_until
from tests.ui.on_screen import toasts_shown

SIZE = (120, 36)
INTERVAL = 0.025
CAP = 0.2
QUEUE_PATH = "/api/ai/queue"

Responder = Callable[[httpx.Request], Awaitable[httpx.Response]]


class MaxRng(random.Random):
    """Full jitter pinned to its ceiling: the backoff sequence is exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


class RecordingPoller(Poller):
    """The real poller, keeping every outcome (with the delay it announced)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: list[PollOutcome] = []

    async def poll_once(self) -> PollOutcome:
        outcome = await super().poll_once()
        self.outcomes.append(outcome)
        return outcome

    @property
    def failed(self) -> list[PollFailed]:
        return [o for o in self.outcomes if isinstance(o, PollFailed)]


class FaultyHub(httpx.AsyncBaseTransport):
    """The demo hub; while `fault` is set, queue list polls get the fault instead.

    Every queue list request is timed (`times`, monotonic) so tests can check the
    poller kept to its delays.
    """

    def __init__(self, sim: QueueSimulator) -> None:
        self.sim = sim
        self.inner = StreamingASGITransport(create_app(sim))
        self.fault: Responder | None = None
        self.times: list[float] = []
        #: When each faulty answer to a poll of the view was asked for (the terminal
        #: status lists, asked right after a page, are the resolver's, not the poller's).
        self.fault_times: list[float] = []

    @property
    def polls(self) -> int:
        return len(self.times)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == QUEUE_PATH:
            self.times.append(time.monotonic())
            if self.fault is not None:
                if "status" not in request.url.params:
                    self.fault_times.append(self.times[-1])
                return await self.fault(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def raises(exc: Exception) -> Responder:
    async def respond(request: httpx.Request) -> httpx.Response:
        raise exc

    return respond


def chaos(fault_name: str, sim: QueueSimulator, **kw: Any) -> Responder:
    """One of the demo's chaos faults, on every request."""
    transport = StreamingASGITransport(
        ChaosMiddleware(create_app(sim), rate=1.0, seed=3, faults=[fault_name], **kw)
    )
    return transport.handle_async_request


def status(code: int, body: bytes = b"{}", **headers: str) -> Responder:
    async def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, content=body, headers=headers)

    return respond


async def stall(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Fault:
    id: str
    make: Callable[[QueueSimulator], Responder]
    #: The status bar's sentence (the fault line starts with "✖ " and this).
    sentence: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    #: Announced delay of the first failure, when it is not the backoff's (2 * INTERVAL).
    delay: float | None = None


BIG_JSON = b'{"count": 0, "generations": [], "padding": "' + b"x" * 60_000 + b'"}'

FAULTS = [
    Fault(
        "dns",
        lambda sim: raises(httpx.ConnectError("[Errno -2] Name or service not known")),
        "cannot reach demo hub: host name not found",
        "unreachable",
    ),
    Fault(
        "refused",
        lambda sim: raises(httpx.ConnectError("[Errno 111] Connection refused")),
        "cannot reach demo hub: connection refused",
        "unreachable",
    ),
    Fault(
        "reset",
        lambda sim: raises(httpx.ReadError("[Errno 104] Connection reset by peer")),
        "connection to demo hub lost (ReadError)",
        "unreachable",
    ),
    Fault(
        "connect-timeout",
        lambda sim: raises(httpx.ConnectTimeout("timed out")),
        "connect timeout talking to demo hub",
        "timeout",
    ),
    Fault(
        "read-timeout",
        lambda sim: raises(httpx.ReadTimeout("timed out")),
        "read timeout talking to demo hub",
        "timeout",
    ),
    Fault(
        "stall",
        lambda sim: stall,
        "no complete answer from demo hub within 1s",
        "timeout",
        settings={"timeout": 0.6, "connect_timeout": 0.4},
    ),
    Fault(
        "500-html",
        lambda sim: chaos("server_error_html", sim),
        "hub error 500: HTML error page",
        "server",
    ),
    Fault(
        "502-html",
        lambda sim: chaos("bad_gateway", sim),
        "hub error 502: HTML error page",
        "server",
    ),
    Fault(
        "503-json",
        lambda sim: chaos("unavailable", sim),
        "hub error 503: Queue is restarting",
        "server",
    ),
    Fault(
        "429",
        lambda sim: status(429, b'{"error": "slow down"}', **{"retry-after": "7"}),
        "rate limited by the hub (429)",
        "rate_limited",
        delay=7.0,
    ),
    Fault(
        "401-no-token",
        lambda sim: status(401),
        "unauthorised (401): no API token was sent; set one with --token or OXEN_API_KEY",
        "auth",
        delay=AUTH_RETRY_DELAY,
    ),
    Fault(
        "403-refused-token",
        lambda sim: status(403),
        "forbidden (403): the token from OXEN_API_KEY was refused",
        "auth",
        settings={"token": "tok_MARKER_5ecr3t", "token_source": "OXEN_API_KEY"},
        delay=AUTH_RETRY_DELAY,
    ),
    Fault(
        "404",
        lambda sim: status(404, b"<html>Not Found</html>"),
        "demo hub has no queue endpoint (404): wrong host or path?",
        "not_found",
    ),
    Fault(
        "not-json",
        lambda sim: chaos("not_json", sim),
        "the hub answered with something that is not JSON",
        "bad_payload",
    ),
    Fault(
        "wrong-shape",
        lambda sim: chaos("wrong_shape", sim),
        "unexpected response shape",
        "bad_payload",
    ),
    Fault(
        "over-size-cap",
        lambda sim: status(200, BIG_JSON, **{"content-type": "application/json"}),
        "response of 60 kB is over the 50 kB cap; refused",
        "bad_payload",
        settings={"max_body_bytes": 50_000},
    ),
]


def fault_app(
    clock: FakeClock,
    sim: QueueSimulator,
    *,
    fast: bool = False,
    monotonic: Callable[[], float] = time.monotonic,
    **settings_kw: Any,
) -> tuple[QueueApp, FaultyHub]:
    """The dashboard on a FaultyHub. `fast`: the poller runs on a 25 ms interval with
    its backoff pinned to the ceiling (0.05, 0.1, 0.2, 0.2 s...), so delays are exact."""
    settings = Settings(
        **{"demo": True, "interval": FROZEN_INTERVAL, "filters": QueueFilters(), **settings_kw}
    )
    hub = FaultyHub(sim)
    client = SteadyClient(settings, transport=hub)
    app = QueueApp(settings, client=client, clock=clock, monotonic=monotonic)
    if fast:
        app.poller = RecordingPoller(
            client,
            settings.filters,
            interval=INTERVAL,
            backoff_cap=CAP,
            rng=MaxRng(),
            monotonic=monotonic,
        )
    return app, hub


async def failures(pilot: Pilot, n: int) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.failures >= n, f"{n} failed polls")


async def failure_toasts(pilot: Pilot) -> list[str]:
    """The messages of the "Poll failed" toasts on screen."""
    title = "Poll failed\n"
    return [t.removeprefix(title) for t in await toasts_shown(pilot) if t.startswith(title)]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
async def test_fault_is_shown_not_fatal_and_the_last_rows_stay(
    fault: Fault, clock: FakeClock, sim: QueueSimulator
):
    app, hub = fault_app(clock, sim, **fault.settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await first_poll(pilot)
        rows = set(app.table.generations)
        assert rows and app.status_bar.fault_text == ""

        hub.fault = fault.make(sim)
        clock.advance(47)
        await poll(pilot)

        assert app.is_running
        assert app.failure is not None and app.failure.error.kind == fault.kind
        assert set(app.table.generations) == rows, "the last good rows stay"
        assert app.table.has_class("-stale"), "and are dimmed"
        line = app.status_bar.fault_text
        assert line.startswith(f"✖ {fault.sentence}"), line
        assert "retrying in" in line
        assert "⚠ stale: last update 47s ago" in app.status_bar.text
        assert "\n" not in line and len(line) <= SIZE[0] - 2
        if fault.kind in ("auth", "not_found"):
            # Only the user can fix these: said at once, with what to do.
            (toast,) = await failure_toasts(pilot)
            assert toast.startswith(fault.sentence.split(":")[0])
            assert "r retries now" not in line, "retrying alone will not fix it"
            if fault.kind == "auth":
                assert "OXEN_API_KEY" in toast and "oxen config --auth" in toast
        else:
            assert "r retries now" in line
            assert not await failure_toasts(pilot), "a single blip is not worth a toast"

        hub.fault = None
        await poll(pilot)
        assert app.failure is None
        assert app.status_bar.fault_text == ""
        assert "● live" in app.status_bar.text
        assert not app.table.has_class("-stale")


@pytest.mark.parametrize(
    "fault", [f for f in FAULTS if f.delay is None], ids=[f.id for f in FAULTS if f.delay is None]
)
async def test_backoff_grows_and_the_hub_sees_no_storm(
    fault: Fault, clock: FakeClock, sim: QueueSimulator
):
    settings = dict(fault.settings)
    if fault.id == "stall":
        settings.update(timeout=0.15, connect_timeout=0.1)
    app, hub = fault_app(clock, sim, fast=True, **settings)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        poller = app.poller
        assert isinstance(poller, RecordingPoller)
        hub.fault = fault.make(sim)
        await wait_until(pilot, lambda: len(poller.failed) >= 4, "four failed polls")
        assert app.is_running
        failed = poller.failed[:4]
        assert [f.attempt for f in failed] == [1, 2, 3, 4]
        announced = [f.delay for f in failed]
        assert announced == [2 * INTERVAL, 4 * INTERVAL, CAP, CAP]
        times = hub.fault_times[:4]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Each request waited at least as long as the poller said it would.
        for gap, delay in zip(gaps, announced, strict=False):
            assert gap >= delay - 0.01, (gaps, announced)


async def test_rate_limit_honours_retry_after_with_a_live_countdown(
    clock: FakeClock, sim: QueueSimulator
):
    mono = FakeMonotonic()
    app, hub = fault_app(clock, sim, fast=True, monotonic=mono)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        hub.fault = status(429, b"{}", **{"retry-after": "7"})
        await failures(pilot, 1)
        assert app.failure.delay == 7.0, "Retry-After, not the backoff"
        assert "✖ rate limited by the hub (429) — retrying in 7s" in app.status_bar.fault_text
        requests = hub.polls
        mono.advance(3)
        await wait_until(
            pilot, lambda: "retrying in 4s" in app.status_bar.fault_text, "the countdown"
        )
        await pilot.pause(6 * INTERVAL)  # still no request
        assert hub.polls == requests
        # r retries now, whatever the hub asked for.
        await pilot.press("r")
        await wait_until(pilot, lambda: hub.polls > requests, "the retry on r")
        assert app.is_running


async def test_auth_failure_slows_to_a_minute_until_r(clock: FakeClock, sim: QueueSimulator):
    app, hub = fault_app(clock, sim, fast=True)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        hub.fault = status(401)
        await failures(pilot, 1)
        assert app.failure.delay == AUTH_RETRY_DELAY
        assert "retrying in 60s" in app.status_bar.fault_text
        requests = hub.polls
        await pilot.pause(6 * INTERVAL)
        assert hub.polls == requests, "no hammering with a refused token"
        hub.fault = None  # the user fixed the token
        await pilot.press("r")
        await wait_until(pilot, lambda: app.failure is None, "recovery on r")
        assert "● live" in app.status_bar.text


async def test_a_stalled_poll_turns_updated_ago_into_a_stale_warning(
    clock: FakeClock, sim: QueueSimulator
):
    # A hub that stops answering without failing (yet): no fault to show, but the rows
    # are getting old, and the bar says so after three missed intervals.
    app, hub = fault_app(clock, sim, timeout=30.0)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        hub.fault = stall
        requests = hub.polls
        app.action_refresh()
        await wait_until(pilot, lambda: hub.polls > requests, "the stalled request")
        clock.advance(2 * FROZEN_INTERVAL)
        await wait_until(pilot, lambda: "updated 2m ago" in app.status_bar.text, "a tick")
        assert "stale" not in app.status_bar.text
        clock.advance(FROZEN_INTERVAL + 1)
        await wait_until(pilot, lambda: "stale" in app.status_bar.text, "the stale warning")
        assert "⚠ stale: last update 3m ago" in app.status_bar.text
        assert "◌ waiting" in app.status_bar.text and "● live" not in app.status_bar.text
        assert app.status_bar.fault_text == "", "not a fault: nothing failed"
        assert app.table.has_class("-stale")


async def test_malformed_rows_are_dropped_and_counted_good_rows_shown(
    clock: FakeClock, sim: QueueSimulator
):
    # Rows without a usable id are dropped and counted; rows with an id and a field of
    # the wrong type are kept (their cells show `?`) and counted apart.
    with_id = {
        r["generation_id"]
        for r in malformed_rows()
        if isinstance(r, dict) and isinstance(r.get("generation_id"), str)
    }
    app, hub = fault_app(clock, sim)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        hub.fault = chaos("malformed_rows", sim)
        await poll(pilot)
        assert app.failure is None
        assert app.dropped >= 1 and app.degraded >= 1  # (the seed picks both kinds)
        shown = set(app.table.generations)
        assert shown - with_id == {r["generation_id"] for r in sim.list()}
        assert len(shown & with_id) == app.degraded
        noun = "row" if app.dropped == 1 else "rows"
        assert (
            f"⚠ {app.dropped} malformed {noun} dropped, {app.degraded} with bad fields"
            in app.status_bar.text
        )
        assert "● live" in app.status_bar.text


async def test_first_poll_failing_explains_in_the_empty_table(
    clock: FakeClock, sim: QueueSimulator
):
    app, hub = fault_app(clock, sim)
    hub.fault = status(401)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        assert app.table.row_count == 0
        assert "no data yet" in app.status_bar.text
        assert app.status_bar.fault_text.startswith("✖ unauthorised (401)")
        assert "retrying in" in app.status_bar.fault_text, "the countdown fits at 80 columns"
        await wait_until(
            pilot, lambda: "Cannot load" in app.detail.empty_message, "the empty-table note"
        )
        pane = app.detail.empty_message
        assert "Cannot load the queue: unauthorised (401)" in pane
        assert "OXEN_API_KEY" in pane and "press r" in pane


async def test_paused_while_failing_says_so(clock: FakeClock, sim: QueueSimulator):
    app, hub = fault_app(clock, sim)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        hub.fault = chaos("server_error_html", sim)
        await poll(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: "paused" in app.status_bar.fault_text, "the pause")
        assert "paused (p resumes)" in app.status_bar.fault_text
        requests = hub.polls
        await pilot.press("r")
        await pilot.pause(0.1)
        assert hub.polls == requests
