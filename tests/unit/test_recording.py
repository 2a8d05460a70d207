"""Record and replay: the exchange format, the token never written, faults replayed as
the same faults, matching and pacing, and the shipped demo recording.

Regenerate the shipped recording with `python tests/unit/test_recording.py`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from queue_tui.api.client import QUEUE_PATH, QueueClient
from queue_tui.api.errors import (
    BadPayloadError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnreachableError,
)
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import parse_queue_page
from queue_tui.api.recording import (
    RECORDED_HEADERS,
    RecordingTransport,
    ReplayTransport,
    load_recording,
)
from queue_tui.config import DEMO_HOST, Settings, replay_interval
from queue_tui.connect import build_client
from queue_tui.demo.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "tests" / "data" / "demo-recording.jsonl"
HOST = "https://hub.test"
TOKEN = "tok_MARKER_recording_5ecr3t"
DEMO_START = 1_764_000_000.0
SHIPPED_POLLS = 20
SHIPPED_FILTERS = (
    QueueFilters(status="failed", media_type="video"),
    QueueFilters(model="veo-3-fast"),
    QueueFilters(status="cancelled"),
    QueueFilters(status="failed", media_type="video"),
)


def page(*ids: str) -> dict[str, Any]:
    rows = [
        {
            "generation_id": i,
            "model_name": "flux-dev",
            "media_type": "image",
            "status": "queued",
            "enqueued_at": 1_764_000_000,
        }
        for i in ids
    ]
    return {"count": len(rows), "generations": rows}


def settings(**kw: Any) -> Settings:
    return Settings(**{"host": HOST, "token": TOKEN, "token_source": "--token", **kw})


async def record(
    path: Path,
    handler: Any,
    calls: list[QueueFilters | None],
    *,
    clock: FakeClock | None = None,
    **settings_kw: Any,
) -> list[Any]:
    """Fetch once per entry of `calls` through a recorder; returns results or errors."""
    clock = clock or FakeClock(DEMO_START)
    inner = (
        handler if isinstance(handler, httpx.AsyncBaseTransport) else httpx.MockTransport(handler)
    )
    transport = RecordingTransport(inner, path, clock=clock)
    outcomes: list[Any] = []
    async with QueueClient(settings(**settings_kw), transport=transport) as client:
        for filters in calls:
            try:
                outcomes.append(await client.fetch(filters))
            except Exception as exc:
                outcomes.append(exc)
            clock.advance(2)
    return outcomes


async def replay(path: Path, calls: list[QueueFilters | None], **kw: Any) -> list[Any]:
    transport = ReplayTransport(path, speed=0, **kw)
    outcomes: list[Any] = []
    async with QueueClient(settings(), transport=transport) as client:
        for filters in calls:
            try:
                outcomes.append(await client.fetch(filters))
            except Exception as exc:
                outcomes.append(exc)
    return outcomes


def ids(result: Any) -> list[str]:
    return [g.generation_id for g in result.page.generations]


# -- recording --------------------------------------------------------------------------


async def test_exchange_format_and_no_request_headers(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(
            200,
            json=page("a", "b"),
            headers={"x-secret-cookie": "nope", "set-cookie": "s=1", "retry-after": "3"},
        )

    await record(path, handler, [None, QueueFilters(model="flux-dev", search="local")])
    raw = path.read_text(encoding="utf-8")
    assert TOKEN not in raw
    assert "bearer" not in raw.lower() and "authorization" not in raw.lower()
    assert "user-agent" not in raw.lower() and "cookie" not in raw.lower()
    first, second = load_recording(path)
    assert set(first) == {"t", "method", "path", "params", "status", "headers", "body"}
    assert first["t"] == DEMO_START and second["t"] == DEMO_START + 2
    assert (first["method"], first["path"], first["params"]) == ("GET", QUEUE_PATH, {})
    assert second["params"] == {"model": "flux-dev"}
    assert first["status"] == 200
    assert set(first["headers"]) <= set(RECORDED_HEADERS)
    assert first["headers"]["retry-after"] == "3"
    assert json.loads(first["body"]) == page("a", "b")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


async def test_recorder_appends(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    for _ in range(2):
        await record(path, lambda r: httpx.Response(200, json=page("a")), [None])
    assert len(load_recording(path)) == 2


async def test_gzip_body_is_recorded_decoded(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    body = gzip.compress(json.dumps(page("z")).encode())

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-encoding": "gzip"})

    (live,) = await record(path, handler, [None])
    assert ids(live) == ["z"]
    (entry,) = load_recording(path)
    assert json.loads(entry["body"]) == page("z")
    (again,) = await replay(path, [None])
    assert ids(again) == ["z"]


async def test_binary_body_survives(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    await record(path, lambda r: httpx.Response(200, content=b"\xff\xfe\x00"), [None])
    (entry,) = load_recording(path)
    assert "body_b64" in entry
    (error,) = await replay(path, [None])
    assert isinstance(error, BadPayloadError)


# -- every fault replays as the same fault ---------------------------------------------


FAULTS = [
    pytest.param(lambda r: httpx.Response(500, html="<html>x</html>"), id="500-html"),
    pytest.param(lambda r: httpx.Response(429, headers={"Retry-After": "7"}), id="429"),
    pytest.param(lambda r: httpx.Response(200, text="not json"), id="not-json"),
    pytest.param(lambda r: httpx.Response(200, json={"data": 1}), id="wrong-shape"),
    pytest.param(lambda r: httpx.Response(401), id="401"),
    pytest.param(lambda r: httpx.Response(404), id="404"),
    pytest.param(
        lambda r: httpx.Response(
            200, json={"count": 2, "generations": [{"x": 1}, *page("a")["generations"]]}
        ),
        id="malformed-row",
    ),
]


@pytest.mark.parametrize("handler", FAULTS)
async def test_fault_replays_identically(tmp_path: Path, handler: Any) -> None:
    path = tmp_path / "rec.jsonl"
    (live,) = await record(path, handler, [None])
    (again,) = await replay(path, [None])
    assert type(again) is type(live)
    if isinstance(live, Exception):
        assert str(again) == str(live)
        if isinstance(live, RateLimitedError):
            assert again.retry_after == live.retry_after == 7  # type: ignore[attr-defined]
    else:
        assert again.page == live.page


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ConnectError("[Errno -2] Name or service not known"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed"),
    ],
)
async def test_transport_failures_replay_identically(tmp_path: Path, exc: Exception) -> None:
    path = tmp_path / "rec.jsonl"

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    (live,) = await record(path, handler, [None])
    assert isinstance(live, UnreachableError | RequestTimeoutError)
    (entry,) = load_recording(path)
    assert entry["error"] == type(exc).__name__ and "status" not in entry
    (again,) = await replay(path, [None])
    assert type(again) is type(live) and str(again) == str(live)


async def test_stall_is_recorded_and_replays_as_a_timeout(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"

    async def stalled_app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(3600)

    fast = {"timeout": 0.05, "connect_timeout": 0.05, "host": "https://demo.test.invalid"}
    (live,) = await record(path, httpx.ASGITransport(app=stalled_app), [None], **fast)
    assert isinstance(live, RequestTimeoutError)
    (entry,) = load_recording(path)
    assert entry["error"] == "stalled"
    transport = ReplayTransport(path, speed=0)
    async with QueueClient(settings(**fast), transport=transport) as client:
        with pytest.raises(RequestTimeoutError):
            await client.fetch()


async def test_body_over_the_cap_replays_over_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    big = json.dumps(page(*[f"g{i}" for i in range(200)])).encode()

    async def chunked():
        for i in range(0, len(big), 500):
            yield big[i : i + 500]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunked())  # no content-length

    inner = httpx.MockTransport(handler)
    transport = RecordingTransport(inner, path, clock=FakeClock(), max_body_bytes=2000)
    async with QueueClient(settings(max_body_bytes=3000), transport=transport) as client:
        with pytest.raises(BadPayloadError) as live:
            await client.fetch()
    (entry,) = load_recording(path)
    assert entry.get("truncated") or entry.get("incomplete")
    assert len(entry["body"]) <= 4000
    async with QueueClient(
        settings(max_body_bytes=3000), transport=ReplayTransport(path, speed=0)
    ) as client:
        with pytest.raises(BadPayloadError) as again:
            await client.fetch()
    assert "over the 3 kB cap" in str(live.value)
    assert "over the 3 kB cap" in str(again.value)


# -- matching --------------------------------------------------------------------------------


def write(path: Path, *entries: dict[str, Any]) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")


def entry(t: float, params: dict[str, str] | None, *ids_: str, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "t": t,
        "method": "GET",
        "path": QUEUE_PATH,
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(page(*ids_)),
    }
    if params is not None:
        out["params"] = params
    out.update(kw)
    return out


async def test_replay_matches_params_in_order_and_holds_the_last(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write(
        path,
        entry(0, {}, "d1"),
        entry(2, {"status": "failed"}, "f1"),
        entry(4, {}, "d2"),
        entry(6, {"status": "failed"}, "f2"),
    )
    failed = QueueFilters(status="failed")
    outcomes = await replay(path, [None, None, failed, None, failed, failed])
    assert [ids(o) for o in outcomes] == [["d1"], ["d2"], ["f1"], ["d2"], ["f2"], ["f2"]]


async def test_replay_loop_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write(path, entry(0, {}, "a"), entry(2, {}, "b"))
    outcomes = await replay(path, [None] * 5, loop=True)
    assert [ids(o) for o in outcomes] == [["a"], ["b"], ["a"], ["b"], ["a"]]


async def test_entry_without_params_matches_any_params(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write(path, entry(0, None, "a"), entry(2, None, "b"))
    outcomes = await replay(path, [QueueFilters(model="x"), None])
    assert [ids(o) for o in outcomes] == [["a"], ["b"]]


async def test_request_never_recorded_is_a_clear_501(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write(path, entry(0, {}, "a"))
    (error,) = await replay(path, [QueueFilters(model="other")])
    assert isinstance(error, ServerError) and error.status_code == 501
    assert "not in the recording: GET /api/ai/queue?model=other" in error.message


def test_load_recording_skips_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    good = json.dumps(entry(0, {}, "a"))
    path.write_text(f"{good}\n\nnot json\n[1, 2]\n{good}\n{good[:40]}", encoding="utf-8")
    assert len(load_recording(path)) == 2


# -- pacing: the replay clock --------------------------------------------------------------


class FakeTime:
    """The transport's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def every_two_seconds(path: Path, count: int, start: float = 10.0) -> None:
    """A recording of `count` unfiltered polls, 2 s apart: rows e0, e1, ..."""
    write(path, *(entry(start + 2 * i, {}, f"e{i}") for i in range(count)))


async def fetch_at(
    transport: ReplayTransport, fake: FakeTime, steps: list[float], filters: Any = None
) -> list[tuple[list[str], float | None]]:
    """Move the wall clock by each step, then poll: (rows, the replay clock) per poll.
    Also checks that no poll waited: the transport answers at once."""
    seen = []
    async with QueueClient(settings(), transport=transport) as client:
        for step in steps:
            fake.now += step
            before = fake.now
            result = await client.fetch(filters)
            assert fake.now == before
            seen.append((ids(result), transport.recorded_time()))
    return seen


async def test_speed_4_serves_the_latest_exchange_due_skipping_the_rest(tmp_path: Path) -> None:
    # The dashboard polls every 2 s of wall time; at speed 4 that is 8 s of recording,
    # so each poll sees the hub as of then: every fourth recorded poll.
    path = tmp_path / "rec.jsonl"
    every_two_seconds(path, 9)
    fake = FakeTime()
    transport = ReplayTransport(path, speed=4, clock=fake)
    seen = await fetch_at(transport, fake, [0, 2, 2])
    assert seen == [(["e0"], 10), (["e4"], 18), (["e8"], 26)]
    assert transport.history == [0, 4, 8]


async def test_polling_faster_than_the_recording_sees_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    every_two_seconds(path, 3)
    fake = FakeTime()
    transport = ReplayTransport(path, speed=1, clock=fake)
    seen = await fetch_at(transport, fake, [0, 0.5, 0.5, 0.5, 0.5, 1.5])
    assert [rows for rows, _ in seen] == [["e0"], ["e0"], ["e0"], ["e0"], ["e1"], ["e1"]]
    assert [t for _, t in seen] == [10, 10.5, 11, 11.5, 12, 13.5]


async def test_replay_clock_starts_at_the_first_answer_and_stops_at_the_end(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rec.jsonl"
    write(path, entry(1000, {}, "a"), entry(1010, {}, "b"))
    fake = FakeTime()
    transport = ReplayTransport(path, speed=2.0, clock=fake)
    assert transport.now() == 1000  # before the first response: where it starts
    fake.now += 60  # start-up time does not count
    assert transport.now() == 1000
    async with build_client(Settings(replay=str(path)), transport=transport) as client:
        assert ids(await client.fetch()) == ["a"]
        fake.now += 3
        assert transport.now() == 1006  # three seconds at twice the speed
        fake.now += 1000
        assert transport.now() == 1010, "held at the recording's end"
        assert ids(await client.fetch()) == ["b"]
        fake.now += 10
        assert ids(await client.fetch()) == ["b"], "the view holds still at the end"
        assert transport.now() == 1010


async def test_speed_0_serves_one_exchange_per_request_whatever_the_clock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rec.jsonl"
    every_two_seconds(path, 3)
    fake = FakeTime()
    transport = ReplayTransport(path, speed=0, clock=fake)
    seen = await fetch_at(transport, fake, [0, 100, 0, 100])
    assert seen == [(["e0"], 10), (["e1"], 12), (["e2"], 14), (["e2"], 14)]


async def test_a_filter_recorded_only_later_is_answered_at_once_without_moving_the_clock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rec.jsonl"
    write(
        path,
        entry(0, {}, "d0"),
        entry(2, {}, "d2"),
        entry(4, {"status": "failed"}, "f4"),
        entry(6, {}, "d6"),
        entry(8, {"status": "failed"}, "f8"),
    )
    failed = QueueFilters(status="failed")
    fake = FakeTime()
    transport = ReplayTransport(path, speed=1, clock=fake)
    assert await fetch_at(transport, fake, [0]) == [(["d0"], 0)]
    assert await fetch_at(transport, fake, [1], failed) == [(["f4"], 1)], "a look ahead"
    assert await fetch_at(transport, fake, [1], failed) == [(["f4"], 2)]
    assert await fetch_at(transport, fake, [0]) == [(["d2"], 2)], "the clock did not jump"
    assert await fetch_at(transport, fake, [5], failed) == [(["f4"], 7)]
    assert await fetch_at(transport, fake, [1], failed) == [(["f8"], 8)]


async def test_the_first_request_starts_the_replay_at_its_own_exchange(tmp_path: Path) -> None:
    # `list --replay FILE --status cancelled` answers with the recorded cancelled page.
    path = tmp_path / "rec.jsonl"
    write(path, entry(0, {}, "d0"), entry(40, {"status": "cancelled"}, "c40"), entry(42, {}, "d42"))
    fake = FakeTime()
    transport = ReplayTransport(path, speed=1, clock=fake)
    cancelled = QueueFilters(status="cancelled")
    assert await fetch_at(transport, fake, [5], cancelled) == [(["c40"], 40)]
    assert await fetch_at(transport, fake, [1]) == [(["d0"], 41)]
    assert await fetch_at(transport, fake, [1]) == [(["d42"], 42)]


async def test_loop_at_speed_starts_over_after_the_end(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write(path, entry(0, {}, "a"), entry(2, {}, "b"))
    fake = FakeTime()
    transport = ReplayTransport(path, speed=1, loop=True, clock=fake)
    seen = await fetch_at(transport, fake, [0, 2, 1, 2])
    assert seen == [(["a"], 0), (["b"], 2), (["a"], 0), (["b"], 2)]


async def test_an_event_stream_is_served_once_then_stays_quiet(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    stream = {
        "t": 0,
        "method": "GET",
        "path": "/api/events",
        "params": {},
        "status": 200,
        "headers": {"content-type": "text/event-stream"},
        "body": 'data: {"x": 1}\n\n',
    }
    write(path, stream)
    for speed in (0, 4):
        fake = FakeTime()
        transport = ReplayTransport(path, speed=speed, clock=fake)
        request = httpx.Request("GET", "https://hub.test/api/events")
        first = await transport.handle_async_request(request)
        assert await first.aread() == b'data: {"x": 1}\n\n'
        fake.now += 10
        again = await transport.handle_async_request(request)
        assert again.headers["content-type"] == "text/event-stream"
        assert transport.history == [0], "not served twice"
        await again.aclose()


@pytest.mark.parametrize(
    ("interval", "speed", "expected"),
    [(2, 4, 0.5), (2, 1, 2), (2, 0, 2), (2, 10, 0.5), (2, 0.5, 4), (8, 4, 2), (0.5, 4, 0.5)],
)
def test_replay_polls_speed_times_as_often(interval: float, speed: float, expected: float) -> None:
    assert replay_interval(interval, speed) == expected


@pytest.mark.parametrize(
    ("args", "interval"),
    [
        (["--speed", "4"], 0.5),
        ([], 2.0),
        (["--speed", "0"], 2.0),
        (["--speed", "4", "--interval", "8"], 2.0),
        (["--speed", "0.5"], 4.0),
    ],
)
def test_cli_events_on_a_replay_polls_at_its_speed(
    monkeypatch: pytest.MonkeyPatch, args: list[str], interval: float
) -> None:
    from queue_tui import cli

    seen: list[Settings] = []

    async def fake_run_events(client: Any, settings: Settings, **kw: Any) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr("queue_tui.headless.run_events", fake_run_events)
    result = CliRunner().invoke(cli.main, ["events", "--replay", str(SHIPPED), *args])
    assert result.exit_code == 0, result.output
    (used,) = seen
    assert used.interval == interval


# -- through build_client and the CLI -----------------------------------------------------


async def test_build_client_takes_record_and_replay_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    demo = Settings(host=DEMO_HOST, demo=True, record=str(path))
    async with build_client(demo, clock=FakeClock(DEMO_START)) as client:
        live = await client.fetch()
    assert len(load_recording(path)) == 1
    async with build_client(Settings(replay=str(path), replay_speed=0)) as client:
        again = await client.fetch()
    assert again.page == live.page
    assert Settings(replay=str(path)).display_host == "replay of rec.jsonl"


def test_cli_list_replays_and_records(tmp_path: Path) -> None:
    from queue_tui.cli import main

    copy = tmp_path / "copy.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        main, ["list", "--replay", str(SHIPPED), "--record", str(copy), "--json"]
    )
    assert result.exit_code == 0, result.output
    shipped_first = parse_queue_page(json.loads(load_recording(SHIPPED)[0]["body"]))
    assert json.loads(result.stdout) == shipped_first.to_api()
    (copied,) = load_recording(copy)
    assert json.loads(copied["body"]) == json.loads(load_recording(SHIPPED)[0]["body"])


def test_cli_group_options_reach_the_command(tmp_path: Path) -> None:
    from queue_tui.cli import main

    result = CliRunner().invoke(main, ["--replay", str(SHIPPED), "list", "--jsonl"])
    assert result.exit_code == 0, result.output
    assert (
        len(result.stdout.splitlines()) == json.loads(load_recording(SHIPPED)[0]["body"])["count"]
    )


# -- the shipped recording -------------------------------------------------------------------


def shipped_calls() -> list[QueueFilters | None]:
    return [None] * SHIPPED_POLLS + list(SHIPPED_FILTERS)


def test_shipped_recording_shape() -> None:
    entries = load_recording(SHIPPED)
    assert len(entries) == SHIPPED_POLLS + len(SHIPPED_FILTERS)
    assert all(e["status"] == 200 and e["path"] == QUEUE_PATH for e in entries)
    times = [e["t"] for e in entries]
    assert times == [DEMO_START + 2 * i for i in range(len(entries))]
    assert [e["params"] for e in entries[SHIPPED_POLLS:]] == [
        f.to_params() for f in SHIPPED_FILTERS
    ]
    # The demo queue moves: rows come and go and change state over the 40 s.
    bodies = {e["body"] for e in entries[:SHIPPED_POLLS]}
    assert len(bodies) > SHIPPED_POLLS // 2


async def test_shipped_recording_replays_to_the_same_rows_every_time() -> None:
    runs = [await replay(SHIPPED, shipped_calls()) for _ in range(3)]
    expected = [
        parse_queue_page(json.loads(e["body"])).generations for e in load_recording(SHIPPED)
    ]
    for outcomes in runs:
        assert [o.page.generations for o in outcomes] == expected
        assert all(not o.page.dropped for o in outcomes)


async def replay_lifecycle() -> list[tuple[str, str, float, str]]:
    """The shipped recording through the tracker, on the recording's own clock."""
    from queue_tui.core.tracker import Tracker

    transport = ReplayTransport(SHIPPED, speed=0)
    tracker = Tracker(linger=600)
    events = []
    async with QueueClient(settings(), transport=transport) as client:
        for filters in shipped_calls():
            result = await client.fetch(filters)
            now = transport.recorded_time()
            for event in tracker.observe(result.page.generations, now, filters=result.filters):
                events.append((event.kind.value, event.generation_id, event.at, event.source))
    return events


async def test_shipped_recording_replays_to_the_same_lifecycle_events() -> None:
    first = await replay_lifecycle()
    assert first == await replay_lifecycle()
    kinds = {kind for kind, *_ in first}
    # Forty seconds of a busy queue: rows appear, start and leave the active view.
    assert {"appeared", "started", "vanished"} <= kinds
    first_poll = json.loads(load_recording(SHIPPED)[0]["body"])["generations"]
    appeared_at_start = {
        gid for kind, gid, at, _ in first if kind == "appeared" and at == DEMO_START
    }
    assert appeared_at_start == {r["generation_id"] for r in first_poll}


async def test_recording_the_demo_then_replaying_gives_the_live_rows(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    live = await record_demo(path, polls=5)
    again = await replay(path, [None] * 5 + list(SHIPPED_FILTERS))
    assert [o.page for o in again] == [o.page for o in live]


async def record_demo(path: Path, polls: int = SHIPPED_POLLS) -> list[Any]:
    """The demo hub (seed 7) on a FakeClock moved 2 s per poll: `polls` polls of the
    default view, then one poll per SHIPPED_FILTERS entry."""
    from queue_tui.demo.server import create_app

    clock = FakeClock(DEMO_START)
    transport = RecordingTransport(
        httpx.ASGITransport(app=create_app(seed=7, clock=clock)), path, clock=clock
    )
    outcomes = []
    async with QueueClient(Settings(host=DEMO_HOST, demo=True), transport=transport) as client:
        for filters in [None] * polls + list(SHIPPED_FILTERS):
            outcomes.append(await client.fetch(filters))
            clock.advance(2)
    return outcomes


if __name__ == "__main__":
    SHIPPED.unlink(missing_ok=True)
    asyncio.run(record_demo(SHIPPED))
    print(f"wrote {SHIPPED} ({len(load_recording(SHIPPED))} exchanges)")
