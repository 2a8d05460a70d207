"""Headless commands ride out transient faults and stop at once on permanent ones.

The hub is stubbed (respx); `run_events` / `run_wait` are driven with a tiny interval
so the poller's backoff (which starts at the interval) costs milliseconds. The CLI
tests check the exit code and the single `queue-tui: ...` line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner

from queue_tui import cli
from queue_tui.api.client import QueueClient
from queue_tui.api.errors import AuthError, RedirectError
from queue_tui.config import Settings
from queue_tui.headless import run_events, run_wait

HOST = "https://hub.test"
START = 1_764_000_000.0


def row(gid: str, status: str = "processing", **extra: Any) -> dict[str, Any]:
    return {"generation_id": gid, "model_name": "m", "status": status, "enqueued_at": START} | (
        extra
    )


def page(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(rows), "generations": list(rows)}


def settings() -> Settings:
    return Settings(host=HOST, token="tok", token_source="--token")


class Hub:
    """The active view answers from a script (a response, or a row list per poll, the
    last one repeated); terminal lists answer from `finished`."""

    def __init__(self, script: list[Any], finished: dict[str, str] | None = None) -> None:
        self.script = script
        self.finished = finished or {}
        self.polls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status = request.url.params.get("status")
        if status is not None:
            rows = [row(g, s) for g, s in self.finished.items() if s == status]
            return httpx.Response(200, json=page(*rows))
        step = self.script[min(self.polls, len(self.script) - 1)]
        self.polls += 1
        if isinstance(step, httpx.Response):
            return step
        return httpx.Response(200, json=page(*step))


TRANSIENT = [
    httpx.Response(500, html="<html>oops</html>"),
    httpx.Response(429, headers={"retry-after": "0"}),
    httpx.Response(200, content=b"{not json"),
    httpx.Response(503, json={"error": {"type": "x", "title": "restarting"}}),
]


@pytest.fixture
def mock() -> Iterator[respx.Router]:
    with respx.mock(base_url=HOST, assert_all_called=False) as router:
        router.get("/api/events").respond(404)
        yield router


async def test_events_rides_out_transient_faults_and_says_so_twice(mock: respx.Router) -> None:
    hub = Hub([*TRANSIENT, [row("a")], *TRANSIENT[:2], []], finished={"a": "succeeded"})
    mock.get("/api/ai/queue").mock(side_effect=hub)
    mock.get("/api/ai/queue/a").respond(404)
    out: list[str] = []
    err: list[str] = []
    async with QueueClient(settings()) as client:
        code = await run_events(
            client,
            settings(),
            out=out.append,
            err=err.append,
            jsonl=False,
            until_empty=True,
            interval=0.001,
            timeout=20,
            clock=lambda: START,
        )
    assert code == 0
    assert [line.split()[2] for line in out] == ["appeared", "vanished", "succeeded"]
    # One line when each outage starts, one when it ends: not one per retry.
    assert len(err) == 4, err
    assert err[0].startswith("queue-tui: hub error 500") and "retrying" in err[0]
    assert err[1].startswith("queue-tui: the hub answers again")
    assert err[2].startswith("queue-tui: hub error 500")
    assert err[3].startswith("queue-tui: the hub answers again")


async def test_wait_survives_faults_at_start(mock: respx.Router) -> None:
    hub = Hub([*TRANSIENT, [row("a")], []], finished={"a": "failed"})
    mock.get("/api/ai/queue").mock(side_effect=hub)
    mock.get("/api/ai/queue/a").respond(404)
    out: list[str] = []
    err: list[str] = []
    async with QueueClient(settings()) as client:
        code = await run_wait(
            client, settings(), ["a"], out=out.append, err=err.append, interval=0.001, timeout=20
        )
    assert code == 1
    assert out[0].startswith("failed") and " a " in f"{out[0]} "
    assert len(err) == 2


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(401), AuthError),
        (httpx.Response(302, headers={"location": "https://elsewhere.test/api/ai/queue"}), None),
    ],
)
async def test_permanent_faults_end_events_at_once(
    mock: respx.Router, response: httpx.Response, error: type | None
) -> None:
    hub = Hub([[row("a")], response])
    mock.get("/api/ai/queue").mock(side_effect=hub)
    with pytest.raises(error or RedirectError):
        async with QueueClient(settings()) as client:
            await run_events(
                client, settings(), out=lambda _: None, err=lambda _: None, interval=0.001
            )
    assert hub.polls == 2


async def test_never_seen_needs_answers_not_failures(mock: respx.Router) -> None:
    """The grace passes while every request fails: no verdict until the hub answers."""
    hub = Hub([*TRANSIENT * 3, []])
    mock.get("/api/ai/queue").mock(side_effect=hub)
    get = mock.get("/api/ai/queue/zz").mock(
        side_effect=[httpx.Response(503)] * 12 + [httpx.Response(404)] * 20
    )
    # A hub without the history: not evidence either way.
    mock.get("/api/ai/generations/zz").respond(405)
    out: list[str] = []
    async with QueueClient(settings()) as client:
        code = await run_wait(
            client,
            settings(),
            ["zz"],
            out=out.append,
            err=lambda _: None,
            interval=0.001,
            timeout=20,
            grace=0.0,
        )
    assert code == 8
    assert out == [out[0]] and out[0].startswith("never-seen")
    assert get.call_count > 12


# -- the CLI: exit codes and one line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "says"),
    [
        (401, 4, "unauthorised (401)"),
        (403, 4, "forbidden (403)"),
        (404, 6, "no queue endpoint"),
        (422, 2, "request rejected (422)"),
    ],
)
def test_events_exits_at_once_on_a_permanent_fault(
    mock: respx.Router, isolated_env: Any, status: int, code: int, says: str
) -> None:
    route = mock.get("/api/ai/queue").respond(status)
    result = CliRunner().invoke(cli.main, ["events", "--host", HOST, "--token", "t"])
    assert result.exit_code == code
    (line,) = result.stderr.splitlines()
    assert line.startswith("queue-tui: ") and says in line
    assert route.call_count == 1


@pytest.mark.parametrize("command", [["list"], ["list", "--json"], ["events"], ["wait", "abc"]])
def test_a_redirect_is_never_success(
    mock: respx.Router, isolated_env: Any, command: list[str]
) -> None:
    mock.get("/api/ai/queue").respond(302, headers={"location": "https://new.test/api/ai/queue"})
    result = CliRunner().invoke(cli.main, [*command, "--host", HOST, "--token", "t"])
    assert result.exit_code == 9
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "queue-tui: the hub redirected (302) to https://new.test/api/ai/queue;"
        " use https://new.test as --host"
    ]


def test_cancel_behind_a_redirect_is_not_cancelled(mock: respx.Router, isolated_env: Any) -> None:
    mock.delete("/api/ai/queue/a1").respond(307, headers={"location": "/v2/api/ai/queue/a1"})
    result = CliRunner().invoke(cli.main, ["cancel", "a1", "--host", HOST, "--token", "t"])
    assert result.exit_code == 9
    assert "cancelled" not in result.stdout
    assert result.stderr.splitlines() == [
        f"queue-tui: the hub redirected (307) to {HOST}/v2/api/ai/queue/a1; use {HOST}/v2 as --host"
    ]


def test_cancel_encodes_an_id_once(mock: respx.Router, isolated_env: Any) -> None:
    route = mock.delete("/api/ai/queue/a%3Ab").respond(200, json={"status": "success"})
    result = CliRunner().invoke(cli.main, ["cancel", "a:b", "--host", HOST, "--token", "t"])
    assert result.exit_code == 0, result.output
    assert route.called
    assert route.calls[0].request.url.raw_path == b"/api/ai/queue/a%3Ab"
