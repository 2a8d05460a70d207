"""The fault suite over a real loopback socket: the demo hub behind ChaosMiddleware (and a
few hand-made failures), polled by the real Poller and QueueClient.

For every fault: the poller keeps running, the callback sees the right PollFailed (or a
Snapshot with the good rows and a dropped count), the next delay is right, and requests
never storm. Delays are checked by value; the loops use tiny intervals and count.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.middleware import Middleware

from queue_tui import cli
from queue_tui.api.client import QueueClient
from queue_tui.api.errors import (
    AuthError,
    BadPayloadError,
    NotFoundError,
    QueueError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnreachableError,
)
from queue_tui.config import DEMO_HOST, Settings
from queue_tui.connect import build_client
from queue_tui.core.poller import AUTH_RETRY_DELAY, Poller, PollFailed, PollOutcome, Snapshot
from queue_tui.demo.chaos import FAULTS, ChaosMiddleware, hostile_rows
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import DemoServer, create_app
from queue_tui.demo.simulator import QueueSimulator

from .conftest import DEMO_SEED, DEMO_START

INTERVAL = 0.025
CAP = 0.2
GUARD = 15.0


class MaxRng(random.Random):
    """Full jitter pinned to its ceiling, so backoff growth shows exactly."""

    def uniform(self, a: float, b: float) -> float:
        return b


class FixedStatus:
    """ASGI middleware: every queue list request gets this status and body."""

    def __init__(self, app: Any, status: int, body: bytes = b"{}") -> None:
        self.app = app
        self.status = status
        self.body = body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/ai/queue":
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


@contextlib.contextmanager
def hub(*middleware: Middleware) -> Iterator[DemoServer]:
    sim = QueueSimulator(DEMO_SEED, FakeClock(DEMO_START))
    with DemoServer(create_app(sim, middleware=list(middleware))) as server:
        yield server


def chaos(fault: str, **kw: Any) -> Middleware:
    return Middleware(ChaosMiddleware, rate=1.0, seed=3, faults=[fault], **kw)


def settings(url: str, **kw: Any) -> Settings:
    return Settings(**{"host": url, "timeout": 2.0, "connect_timeout": 1.0, **kw})


@contextlib.asynccontextmanager
async def polling(
    url: str, *, rng: random.Random | None = None, **settings_kw: Any
) -> AsyncIterator[tuple[Poller, list[PollOutcome]]]:
    outcomes: list[PollOutcome] = []
    async with QueueClient(settings(url, **settings_kw)) as client:
        poller = Poller(client, interval=INTERVAL, backoff_cap=CAP, rng=rng or MaxRng())
        task = asyncio.create_task(poller.run(outcomes.append))
        try:
            yield poller, outcomes
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until(predicate: Any) -> None:
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), GUARD)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- failures that back off: message, growth, the poller keeps going ------------------------

BACKOFF_FAULTS = [
    pytest.param(
        chaos("server_error_html"), ServerError, "hub error 500: HTML error page", id="500-html"
    ),
    pytest.param(chaos("bad_gateway"), ServerError, "hub error 502: HTML error page", id="502"),
    pytest.param(chaos("unavailable"), ServerError, "hub error 503: Queue is restarting", id="503"),
    pytest.param(chaos("not_json"), BadPayloadError, "is not JSON", id="not-json"),
    pytest.param(
        chaos("wrong_shape"), BadPayloadError, "unexpected response shape", id="wrong-shape"
    ),
    pytest.param(
        Middleware(FixedStatus, status=404), NotFoundError, "no queue endpoint (404)", id="404"
    ),
    pytest.param(None, UnreachableError, "connection refused", id="refused"),
    pytest.param(None, BadPayloadError, "over the 2 kB cap", id="over-size-cap"),
]


@pytest.mark.parametrize(("middleware", "error_type", "message"), BACKOFF_FAULTS)
async def test_failure_backs_off_and_keeps_polling(
    middleware: Middleware | None, error_type: type[QueueError], message: str, request: Any
) -> None:
    fault = request.node.callspec.id
    with contextlib.ExitStack() as stack:
        if fault == "refused":
            url, extra = f"http://127.0.0.1:{closed_port()}", {}
        else:
            server = stack.enter_context(hub(*([middleware] if middleware else [])))
            url = server.url
            extra = {"max_body_bytes": 2000} if fault == "over-size-cap" else {}
        started = time.monotonic()
        async with polling(url, **extra) as (poller, outcomes):
            await until(lambda: len(outcomes) >= 4)
        elapsed = time.monotonic() - started
    failures = outcomes[:4]
    assert all(isinstance(o, PollFailed) for o in failures), failures
    assert all(type(o.error) is error_type for o in failures)  # type: ignore[union-attr]
    assert message in failures[0].error.message  # type: ignore[union-attr]
    assert [o.attempt for o in failures] == [1, 2, 3, 4]  # type: ignore[union-attr]
    # Full-jitter ceiling doubles from the interval up to the cap.
    delays = [2 * INTERVAL, 4 * INTERVAL, CAP, CAP]
    assert [o.delay for o in failures] == delays  # type: ignore[union-attr]
    # No storm: the requests fit the waits they were told to keep.
    assert poller.requests <= len(outcomes) + 1
    assert elapsed >= sum(delays[:3]) - INTERVAL


@pytest.mark.parametrize("fault", ["rate_limited", "rate_limited_date"])
async def test_rate_limit_waits_at_least_retry_after(fault: str) -> None:
    with hub(chaos(fault)) as server:
        async with polling(server.url) as (poller, outcomes):
            await until(lambda: len(outcomes) == 1)
            await asyncio.sleep(10 * INTERVAL)
            assert poller.requests == 1
    (failed,) = outcomes
    assert isinstance(failed, PollFailed) and isinstance(failed.error, RateLimitedError)
    retry_after = failed.error.retry_after
    assert retry_after is not None and retry_after >= 1
    assert failed.delay >= retry_after
    assert "rate limited by the hub (429); retry after" in failed.error.message


@pytest.mark.parametrize(("status", "word"), [(401, "unauthorised"), (403, "forbidden")])
async def test_auth_failure_retries_slowly(status: int, word: str) -> None:
    with hub(Middleware(FixedStatus, status=status)) as server:
        async with polling(server.url) as (poller, outcomes):
            await until(lambda: len(outcomes) == 1)
            await asyncio.sleep(10 * INTERVAL)
            assert poller.requests == 1
    (failed,) = outcomes
    assert isinstance(failed, PollFailed) and isinstance(failed.error, AuthError)
    assert failed.delay == AUTH_RETRY_DELAY
    assert failed.error.message.startswith(f"{word} ({status}): no API token was sent")


async def test_stall_becomes_a_timeout_and_the_poller_goes_on() -> None:
    with hub(chaos("stall", stall_seconds=20)) as server:
        async with polling(server.url, timeout=0.3, connect_timeout=0.2) as (_, outcomes):
            await until(lambda: len(outcomes) >= 2)
    assert all(isinstance(o, PollFailed) for o in outcomes)
    first = outcomes[0]
    assert isinstance(first, PollFailed) and isinstance(first.error, RequestTimeoutError)
    assert "timeout" in first.error.message or "no complete answer" in first.error.message
    assert first.delay == 2 * INTERVAL


async def test_malformed_rows_cost_their_bad_fields_rows_without_id_are_dropped() -> None:
    with hub(chaos("malformed_rows")) as server:
        async with polling(server.url) as (poller, outcomes):
            await until(lambda: len(outcomes) >= 3)
        expected = [r["generation_id"] for r in server.sim.list()]
    for outcome in outcomes[:3]:
        assert isinstance(outcome, Snapshot)
        good = [g for g in outcome.rows if not g.invalid_fields]
        assert [g.generation_id for g in good] == expected
        # Every chaos row with an id is kept, its bad field set aside; the rest dropped.
        degraded = [g for g in outcome.rows if g.invalid_fields]
        assert all(g.generation_id not in expected for g in degraded)
        assert outcome.dropped + len(degraded) >= 1
    assert poller.failures == 0


async def test_hostile_rows_parse_and_the_bad_one_is_dropped() -> None:
    with hub(chaos("hostile_rows")) as server:
        async with polling(server.url) as (_, outcomes):
            await until(lambda: len(outcomes) >= 1)
        good = {r["generation_id"] for r in server.sim.list()}
    snapshot = outcomes[0]
    assert isinstance(snapshot, Snapshot)
    hostile = [r for r in hostile_rows(DEMO_START) if "generation_id" in r]
    ids = {g.generation_id for g in snapshot.rows}
    assert ids == good | {r["generation_id"] for r in hostile}
    assert snapshot.dropped == 1  # the hostile row without an id
    by_id = {g.generation_id: g for g in snapshot.rows}
    markup = by_id[hostile[0]["generation_id"]]
    assert markup.model_name == "[bold red]x[/]"  # kept as data; sanitised at display
    unknown = next(g for g in snapshot.rows if g.status == "paused")
    assert unknown.media_type == "audio" and unknown.is_active


# -- a long mixed run ----------------------------------------------------------------------------


async def test_mixed_chaos_run_never_kills_the_poller() -> None:
    sim = QueueSimulator(DEMO_SEED, FakeClock(DEMO_START))
    faults = [f for f in FAULTS if not f.startswith("rate_limited")]  # keep it quick
    app = create_app(
        sim,
        middleware=[
            Middleware(ChaosMiddleware, rate=0.5, seed=11, faults=faults, stall_seconds=20)
        ],
    )
    with DemoServer(app) as server:
        async with polling(server.url, rng=random.Random(5), timeout=0.3, connect_timeout=0.2) as (
            poller,
            outcomes,
        ):
            poller.backoff_cap = 0.1  # a long run of failures must not slow the test
            await until(lambda: len(outcomes) >= 40)
    kinds = {type(o.error).__name__ if isinstance(o, PollFailed) else "Snapshot" for o in outcomes}
    assert "Snapshot" in kinds and len(kinds) >= 4, kinds
    assert poller.requests <= len(outcomes) + 1
    for outcome in outcomes:
        if isinstance(outcome, PollFailed):
            assert outcome.error.message and "\n" not in outcome.error.message
            assert outcome.delay >= INTERVAL


# -- wiring ---------------------------------------------------------------------------------------


async def test_in_process_demo_with_chaos_misbehaves() -> None:
    demo = Settings(host=DEMO_HOST, demo=True, timeout=0.3, connect_timeout=0.2)
    seen: set[str] = set()
    async with build_client(demo, clock=FakeClock(DEMO_START), chaos=1.0) as client:
        for _ in range(12):
            try:
                result = await client.fetch()
            except QueueError as error:
                seen.add(error.kind)
            else:
                assert result.page.dropped, "every answer is faulty at chaos=1"
                seen.add("dropped")
    assert len(seen) >= 3, seen


def test_demo_server_chaos_option(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "queue_tui.demo.server.run_server", lambda **kw: calls.append(kw), raising=True
    )
    result = CliRunner().invoke(cli.main, ["demo-server", "--port", "0", "--chaos", "0.25"])
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["chaos"] == 0.25
    bad = CliRunner().invoke(cli.main, ["demo-server", "--chaos", "2"])
    assert bad.exit_code == 2


def test_chaos_is_repeatable_with_a_seed() -> None:
    def picks(seed: int) -> list[str]:
        async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
            pass

        middleware = ChaosMiddleware(app, rate=1.0, seed=seed)
        return [middleware._rng.choice(middleware.faults) for _ in range(20)]

    assert picks(4) == picks(4)
    assert picks(4) != picks(5)


def test_unknown_fault_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown chaos faults: nope"):
        ChaosMiddleware(lambda *a: None, faults=["nope"])  # type: ignore[arg-type]
