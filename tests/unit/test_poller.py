"""The poll loop: backoff with full jitter, Retry-After, auth slow-down, one request in
flight, filters, pause. Delays are checked by value (no timed assertions); the loop tests
use tiny intervals and count requests."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from queue_tui.api.client import FetchResult, QueueClient
from queue_tui.api.errors import (
    AuthError,
    BadPayloadError,
    InsecureTokenError,
    QueueError,
    RateLimitedError,
    ServerError,
    UnreachableError,
)
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import parse_queue_page
from queue_tui.config import Settings
from queue_tui.core.poller import AUTH_RETRY_DELAY, Poller, PollFailed, PollOutcome, Snapshot

GUARD = 10.0  # seconds: only a hang trips it


def result(filters: QueueFilters | None = None, *rows: dict[str, Any]) -> FetchResult:
    page = parse_queue_page({"count": len(rows), "generations": list(rows)})
    return FetchResult(page=page, latency=0.01, fetched_at=0.0, filters=filters or QueueFilters())


class ScriptedClient:
    """Stands in for QueueClient.fetch: plays outcomes in order, then repeats the last."""

    def __init__(self, *outcomes: QueueError | str) -> None:
        self.outcomes = list(outcomes) or ["ok"]
        self.calls: list[QueueFilters] = []

    async def fetch(self, filters: QueueFilters) -> FetchResult:
        self.calls.append(filters)
        outcome = self.outcomes[min(len(self.calls), len(self.outcomes)) - 1]
        await asyncio.sleep(0)
        if isinstance(outcome, QueueError):
            raise outcome
        return result(filters, {"generation_id": f"g{len(self.calls)}"})


class MaxRng(random.Random):
    """uniform() always returns its upper bound: shows the ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


class MinRng(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


@contextlib.asynccontextmanager
async def running(
    poller: Poller, callback: Callable[[PollOutcome], Any] | None = None
) -> AsyncIterator[list[PollOutcome]]:
    outcomes: list[PollOutcome] = []

    def record(outcome: PollOutcome) -> None:
        outcomes.append(outcome)
        if callback:
            callback(outcome)

    task = asyncio.create_task(poller.run(record))
    try:
        yield outcomes
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(predicate: Callable[[], bool]) -> None:
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), GUARD)


def server_error() -> ServerError:
    return ServerError("hub error 502", status_code=502)


# -- next_delay: pure --------------------------------------------------------------------


def test_success_waits_one_interval() -> None:
    poller = Poller(ScriptedClient(), interval=2.0)  # type: ignore[arg-type]
    assert poller.next_delay(None) == 2.0


def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    poller = Poller(ScriptedClient(), interval=2.0, backoff_cap=60.0, rng=MaxRng())  # type: ignore[arg-type]
    ceilings = []
    for failures in range(1, 9):
        poller.failures = failures
        ceilings.append(poller.next_delay(server_error()))
    assert ceilings == [4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0, 60.0]


def test_backoff_floor_is_the_interval() -> None:
    poller = Poller(ScriptedClient(), interval=2.0, rng=MinRng())  # type: ignore[arg-type]
    poller.failures = 6
    assert poller.next_delay(UnreachableError("x")) == 2.0


def test_full_jitter_spreads_between_interval_and_ceiling() -> None:
    poller = Poller(ScriptedClient(), interval=1.0, backoff_cap=30.0, rng=random.Random(3))  # type: ignore[arg-type]
    poller.failures = 4  # ceiling 16
    delays = [poller.next_delay(server_error()) for _ in range(500)]
    assert all(1.0 <= d <= 16.0 for d in delays)
    # Spread over the whole range, not clumped (clients must not retry in lockstep).
    assert min(delays) < 2.0 and max(delays) > 15.0
    assert len({round(d, 3) for d in delays}) > 400


def test_huge_failure_counts_do_not_overflow() -> None:
    poller = Poller(ScriptedClient(), interval=2.0, backoff_cap=60.0, rng=MaxRng())  # type: ignore[arg-type]
    poller.failures = 10_000
    assert poller.next_delay(server_error()) == 60.0


@pytest.mark.parametrize(("retry_after", "expected"), [(30.0, 30.0), (0.5, 4.0), (None, 4.0)])
def test_retry_after_is_a_floor(retry_after: float | None, expected: float) -> None:
    poller = Poller(ScriptedClient(), interval=2.0, rng=MaxRng())  # type: ignore[arg-type]
    poller.failures = 1  # jitter ceiling 4
    error = RateLimitedError("429", retry_after=retry_after)
    assert poller.next_delay(error) == expected


def test_auth_failures_retry_slowly() -> None:
    poller = Poller(ScriptedClient(), interval=2.0, rng=MaxRng())  # type: ignore[arg-type]
    for failures in (1, 2, 10):
        poller.failures = failures
        error = AuthError("401", status_code=401, token_source="--token")
        assert poller.next_delay(error) == AUTH_RETRY_DELAY
    slow = Poller(ScriptedClient(), interval=120.0)  # type: ignore[arg-type]
    slow.failures = 1
    assert slow.next_delay(AuthError("403", status_code=403, token_source="x")) == 120.0


# -- poll_once ---------------------------------------------------------------------------


async def test_poll_once_counts_failures_and_resets_on_success() -> None:
    client = ScriptedClient(server_error(), server_error(), "ok", server_error())
    now = [100.0]
    poller = Poller(
        client,  # type: ignore[arg-type]
        interval=2.0,
        rng=MaxRng(),
        monotonic=lambda: now[0],
    )
    first = await poller.poll_once()
    now[0] += 100.0
    second = await poller.poll_once()
    assert isinstance(first, PollFailed) and isinstance(second, PollFailed)
    assert (first.attempt, first.delay, first.next_try_at) == (1, 4.0, 104.0)
    assert (second.attempt, second.delay) == (2, 8.0)
    ok = await poller.poll_once()
    assert isinstance(ok, Snapshot) and poller.failures == 0
    again = await poller.poll_once()
    assert isinstance(again, PollFailed) and again.attempt == 1 and again.delay == 4.0
    assert poller.requests == 4 and not poller.in_flight
    assert poller.last_outcome is again


async def test_poll_once_reports_rows_and_dropped() -> None:
    class Client:
        async def fetch(self, filters: QueueFilters) -> FetchResult:
            return result(filters, {"generation_id": "a"}, {"oops": 1}, {"generation_id": "b"})

    outcome = await Poller(Client()).poll_once()  # type: ignore[arg-type]
    assert isinstance(outcome, Snapshot)
    assert [g.generation_id for g in outcome.rows] == ["a", "b"]
    assert outcome.dropped == 1


# -- the loop -------------------------------------------------------------------------------


async def test_loop_keeps_going_through_failures_without_a_storm() -> None:
    client = ScriptedClient(server_error(), BadPayloadError("x"), UnreachableError("y"))
    poller = Poller(client, interval=0.02, backoff_cap=0.08, rng=random.Random(1))  # type: ignore[arg-type]
    started = time.monotonic()
    async with running(poller) as outcomes:
        await asyncio.sleep(0.5)
    elapsed = time.monotonic() - started
    assert outcomes and all(isinstance(o, PollFailed) for o in outcomes)
    assert [o.attempt for o in outcomes] == list(range(1, len(outcomes) + 1))
    assert all(0.02 <= o.delay <= 0.08 for o in outcomes)  # type: ignore[union-attr]
    # Every wait is at least one interval: never more requests than the window allows.
    assert poller.requests == len(client.calls) <= elapsed / 0.02 + 1


async def test_auth_failure_stops_hammering_until_refresh() -> None:
    client = ScriptedClient(AuthError("401", status_code=401, token_source="--token"), "ok")
    poller = Poller(client, interval=0.01)  # type: ignore[arg-type]
    async with running(poller) as outcomes:
        await until(lambda: len(outcomes) == 1)
        failed = outcomes[0]
        assert isinstance(failed, PollFailed) and failed.delay == AUTH_RETRY_DELAY
        await asyncio.sleep(0.2)  # twenty intervals: still one request
        assert poller.requests == 1
        poller.refresh_now()  # the user fixed the token and pressed r
        await until(lambda: len(outcomes) == 2)
    assert isinstance(outcomes[1], Snapshot)


async def test_retry_after_delays_the_next_request() -> None:
    client = ScriptedClient(RateLimitedError("429", retry_after=30), "ok")
    poller = Poller(client, interval=0.01, monotonic=lambda: 1000.0)  # type: ignore[arg-type]
    async with running(poller) as outcomes:
        await until(lambda: len(outcomes) == 1)
        await asyncio.sleep(0.1)
        assert poller.requests == 1
    failed = outcomes[0]
    assert isinstance(failed, PollFailed)
    assert failed.delay >= 30 and failed.next_try_at == 1000.0 + failed.delay
    assert poller.next_poll_at == failed.next_try_at


async def test_set_filters_polls_at_once_with_the_new_filters() -> None:
    client = ScriptedClient()
    poller = Poller(client, interval=3600)  # type: ignore[arg-type]
    async with running(poller) as outcomes:
        await until(lambda: len(outcomes) == 1)
        poller.set_filters(QueueFilters(model="flux-dev"))
        await until(lambda: len(outcomes) == 2)
    assert client.calls == [QueueFilters(), QueueFilters(model="flux-dev")]
    assert outcomes[1].result.filters == QueueFilters(model="flux-dev")  # type: ignore[union-attr]


async def test_search_only_change_does_not_poll() -> None:
    client = ScriptedClient()
    poller = Poller(client, interval=3600)  # type: ignore[arg-type]
    async with running(poller) as outcomes:
        await until(lambda: len(outcomes) == 1)
        poller.set_filters(QueueFilters(search="cat"))
        await asyncio.sleep(0.1)
        assert poller.requests == 1
    assert poller.filters == QueueFilters(search="cat")


async def test_pause_stops_requests_and_resume_polls_at_once() -> None:
    client = ScriptedClient()
    poller = Poller(client, interval=0.01)  # type: ignore[arg-type]
    async with running(poller) as outcomes:
        await until(lambda: len(outcomes) >= 2)
        assert poller.toggle_pause() is True
        await asyncio.sleep(0.05)  # let a poll in flight land
        paused_at = poller.requests
        await asyncio.sleep(0.2)  # twenty intervals
        assert poller.requests == paused_at
        assert poller.next_poll_at is None
        assert poller.toggle_pause() is False
        await until(lambda: poller.requests > paused_at)


# -- one request in flight, stale results -----------------------------------------------------


class GatedHub:
    """An httpx transport handler that holds each request until released."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self.params: list[dict[str, str]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.params.append(dict(request.url.params))
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        return httpx.Response(200, json={"count": 0, "generations": []})


def gated_client(hub: GatedHub) -> QueueClient:
    settings = Settings(host="https://hub.test", timeout=GUARD)
    return QueueClient(settings, transport=httpx.MockTransport(hub))


async def test_refresh_while_in_flight_never_starts_a_second_request() -> None:
    hub = GatedHub()
    async with gated_client(hub) as client:
        poller = Poller(client, interval=3600)
        async with running(poller) as outcomes:
            await until(lambda: hub.in_flight == 1)
            for _ in range(5):
                poller.refresh_now()
                await asyncio.sleep(0.01)
            assert hub.in_flight == 1 and poller.requests == 1 and poller.in_flight
            hub.gate.set()
            # The refresh asked during the flight is honoured once, right after it.
            await until(lambda: len(outcomes) == 2)
            await asyncio.sleep(0.05)
        assert hub.max_in_flight == 1
        assert poller.requests == 2


async def test_result_for_stale_filters_is_discarded() -> None:
    hub = GatedHub()
    async with gated_client(hub) as client:
        poller = Poller(client, interval=3600)
        async with running(poller) as outcomes:
            await until(lambda: hub.in_flight == 1)
            poller.set_filters(QueueFilters(status="failed"))
            hub.gate.set()
            await until(lambda: len(outcomes) == 1)
        assert hub.params == [{}, {"status": "failed"}]
        assert hub.max_in_flight == 1
        (only,) = outcomes
        assert isinstance(only, Snapshot)
        assert only.result.filters == QueueFilters(status="failed")


async def test_async_callback_is_awaited() -> None:
    seen: list[str] = []

    async def callback(outcome: PollOutcome) -> None:
        await asyncio.sleep(0)
        seen.append(type(outcome).__name__)

    poller = Poller(ScriptedClient(), interval=3600)  # type: ignore[arg-type]
    task = asyncio.create_task(poller.run(callback))
    await until(lambda: seen == ["Snapshot"])
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# -- the fault table, through the real client ----------------------------------------------

HTTP_DATE_IN_30S = "__date__"


def _respond(spec: Any) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(spec, Exception):
            raise spec
        status, kwargs = spec[0], dict(spec[1])
        headers = dict(kwargs.pop("headers", {}))
        if headers.get("Retry-After") == HTTP_DATE_IN_30S:
            headers["Retry-After"] = email.utils.formatdate(time.time() + 30, usegmt=True)
        return httpx.Response(status, headers=headers, **kwargs)

    return handler


GOOD_ROW = {"generation_id": "ok", "status": "queued", "enqueued_at": 1_764_000_000}

FAULT_TABLE = [
    # (response, error kind or None for a snapshot, message part, delay rule)
    pytest.param(
        httpx.ConnectError("[Errno 111] Connection refused"),
        "unreachable",
        "connection refused",
        "backoff",
        id="refused",
    ),
    pytest.param(
        httpx.ConnectError("[Errno -2] Name or service not known"),
        "unreachable",
        "host name not found",
        "backoff",
        id="dns",
    ),
    pytest.param(
        httpx.ConnectTimeout("t"), "timeout", "connect timeout", "backoff", id="connect-timeout"
    ),
    pytest.param(httpx.ReadTimeout("t"), "timeout", "read timeout", "backoff", id="read-timeout"),
    pytest.param(
        (500, {"html": "<html>oops</html>"}),
        "server",
        "hub error 500: HTML error page",
        "backoff",
        id="500-html",
    ),
    pytest.param((503, {"text": "down"}), "server", "hub error 503: down", "backoff", id="503"),
    pytest.param(
        (429, {"headers": {"Retry-After": "30"}}),
        "rate_limited",
        "retry after 30s",
        "retry-after",
        id="429-seconds",
    ),
    pytest.param(
        (429, {"headers": {"Retry-After": HTTP_DATE_IN_30S}}),
        "rate_limited",
        "rate limited",
        "retry-after",
        id="429-date",
    ),
    pytest.param((401, {}), "auth", "unauthorised (401)", "auth", id="401"),
    pytest.param((403, {}), "auth", "forbidden (403)", "auth", id="403"),
    pytest.param((404, {}), "not_found", "no queue endpoint (404)", "backoff", id="404"),
    pytest.param((200, {"text": "<html>"}), "bad_payload", "not JSON", "backoff", id="not-json"),
    pytest.param(
        (200, {"json": {"items": []}}),
        "bad_payload",
        "unexpected response shape",
        "backoff",
        id="wrong-shape",
    ),
    pytest.param(
        (200, {"content": b" " * 5000}),
        "bad_payload",
        "over the 4 kB cap",
        "backoff",
        id="over-cap",
    ),
    pytest.param(
        (200, {"json": {"count": 3, "generations": [GOOD_ROW, {"x": 1}, 7]}}),
        None,
        "",
        "interval",
        id="malformed-rows",
    ),
]


@pytest.mark.parametrize(("response", "kind", "message", "delay_rule"), FAULT_TABLE)
async def test_fault_table(response: Any, kind: str | None, message: str, delay_rule: str) -> None:
    settings = Settings(host="https://hub.test", token="t0k3n-for-the-table", max_body_bytes=4000)
    transport = httpx.MockTransport(_respond(response))
    async with QueueClient(settings, transport=transport) as client:
        poller = Poller(client, interval=2.0, backoff_cap=60.0, rng=MaxRng())
        outcomes = [await poller.poll_once() for _ in range(3)]
    if kind is None:
        assert all(isinstance(o, Snapshot) for o in outcomes)
        assert [g.generation_id for g in outcomes[0].rows] == ["ok"]  # type: ignore[union-attr]
        assert outcomes[0].dropped == 2  # type: ignore[union-attr]
        assert poller.next_delay(None) == 2.0
        return
    assert all(isinstance(o, PollFailed) for o in outcomes)
    failed = [o for o in outcomes if isinstance(o, PollFailed)]
    assert {f.error.kind for f in failed} == {kind}
    assert message in failed[0].error.message
    assert "t0k3n" not in failed[0].error.message
    delays = [f.delay for f in failed]
    if delay_rule == "backoff":
        assert delays == [4.0, 8.0, 16.0]
    elif delay_rule == "auth":
        assert delays == [AUTH_RETRY_DELAY] * 3
    else:
        for f in failed:
            retry_after = f.error.retry_after  # type: ignore[attr-defined]
            assert retry_after is not None and 25 <= retry_after <= 30
            assert f.delay >= retry_after


async def test_a_fault_retrying_cannot_fix_stops_polling_until_refresh() -> None:
    refused = InsecureTokenError("refusing to send the API token over plain http")
    client = ScriptedClient(refused, "ok")
    poller = Poller(client, interval=0.01, monotonic=lambda: 1000.0)  # type: ignore[arg-type]
    async with running(poller) as outcomes:
        await until(lambda: len(outcomes) == 1)
        failed = outcomes[0]
        assert isinstance(failed, PollFailed) and failed.stopped
        assert math.isinf(failed.delay) and poller.next_delay(refused) == math.inf
        await until(lambda: poller.next_poll_at is None)  # no timer: waiting for the user
        await asyncio.sleep(0.2)  # twenty intervals: still one request
        assert poller.requests == 1
        poller.refresh_now()  # r
        await until(lambda: len(outcomes) == 2)
    assert isinstance(outcomes[1], Snapshot)
    # Other faults keep their backoff.
    assert not PollFailed(server_error(), attempt=1, delay=0.5).stopped
