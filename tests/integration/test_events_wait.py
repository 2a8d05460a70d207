"""`queue-tui events`, `wait` and `cancel` against the demo hub over a real loopback socket.

The hub's simulator runs on a FakeClock that moves a few seconds with every list request
(each poll and each status query), so the story advances in step with the client and a
run takes the same course however fast the machine is. Its one model never fails by
itself: a failure is forced with an aspect ratio the model does not take, a cancel with
DELETE, a row that never finishes is injected.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from queue_tui import cli
from queue_tui.api.client import QueueClient
from queue_tui.config import Settings
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import DemoServer
from queue_tui.demo.simulator import ModelSpec, QueueSimulator
from queue_tui.headless import run_wait

MODEL = "render-test"
SPEC = ModelSpec(MODEL, "image", (6.0, 12.0), slots=2, fail_rate=0.0, aspect_ratios=("1:1",))
#: Simulated seconds per list request.
STEP = 4.0
ORDER = {"appeared": 0, "started": 1, "vanished": 2}
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/worker/oxen_worker/runner.py", line 214, in run_generation\n'
    "    output = pipeline(**params)\n"
    "RuntimeError: CUDA error: device-side assert triggered\n"
)
#: What a text line shows of TRACEBACK: the line that says what went wrong.
HEADLINE = "RuntimeError: CUDA error: device-side assert triggered"


pytestmark = pytest.mark.usefixtures("isolated_env")


class Hub:
    def __init__(self, server: DemoServer, sim: QueueSimulator, clock: FakeClock) -> None:
        self.server = server
        self.sim = sim
        self.clock = clock
        self.url = server.url
        self.lists = 0

    def enqueue(self, n: int = 1, **body: Any) -> list[str]:
        response = httpx.post(
            f"{self.url}/api/ai/queue",
            json={"model": MODEL, "prompt": "a lighthouse", "num_generations": n, **body},
        )
        response.raise_for_status()
        return [g["generation_id"] for g in response.json()["generations"]]

    def stuck(self, gid: str = "33333333-3333-4333-8333-333333333333") -> str:
        """A row that stays queued forever."""
        self.sim.add_row(
            {"generation_id": gid, "model_name": MODEL, "media_type": "image", "status": "queued"}
        )
        return gid

    def fail(self, gid: str, error: str) -> str:
        """Injects `gid` as a failed row with this error (replaces a `stuck` one)."""
        self.sim.add_row(
            {
                "generation_id": gid,
                "model_name": MODEL,
                "media_type": "image",
                "status": "failed",
                "error_message": error,
            }
        )
        return gid

    def truth(self, gid: str) -> str:
        for status in ("succeeded", "failed", "cancelled"):
            if any(r["generation_id"] == gid for r in self.sim.list(status=status)):
                return status
        return "active"


def _make_hub(server: DemoServer) -> Hub:
    """A fresh simulator behind `server` (its keep-alive and tick are the same for
    every test; starting and stopping a server for each test costs it 0.2 s)."""
    clock = FakeClock(1_764_000_000.0)
    sim = QueueSimulator(7, clock, warmup=0.0, arrival_rate=0.0, models=[SPEC])
    lock = threading.Lock()
    original = sim.list
    hub_box: list[Hub] = []

    def stepping_list(**filters: Any) -> list[dict[str, Any]]:
        with lock:
            clock.advance(STEP)
            if hub_box:
                hub_box[0].lists += 1
        return original(**filters)

    sim.list = stepping_list  # type: ignore[method-assign]
    server.sim = sim
    hub = Hub(server, sim, clock)
    hub_box.append(hub)
    return hub


@pytest.fixture(scope="module")
def demo_hubs() -> Iterator[Callable[[bool], DemoServer]]:
    """The demo hub with its event stream (True) or without, started when first asked for."""
    with contextlib.ExitStack() as stack:
        servers: dict[bool, DemoServer] = {}

        def server(events: bool) -> DemoServer:
            if events not in servers:
                hub = DemoServer(keepalive=0.5, tick=0.02, events=events)
                servers[events] = stack.enter_context(hub)
            return servers[events]

        yield server


@pytest.fixture
def hub(demo_hubs: Callable[[bool], DemoServer]) -> Hub:
    return _make_hub(demo_hubs(True))


@pytest.fixture
def hub_without_events(demo_hubs: Callable[[bool], DemoServer]) -> Hub:
    return _make_hub(demo_hubs(False))


def fields(line: str) -> list[str]:
    return re.split(r" {2,}", line)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def start(*args: str) -> subprocess.Popen[str]:
    """The installed command in a real process, stdout and stderr pipes."""
    return subprocess.Popen(
        [sys.executable, "-m", "queue_tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def events_by_id(stdout: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        data = json.loads(line)
        out.setdefault(data["generation_id"], []).append(data["event"])
    return out


def assert_lifecycle_order(kinds: list[str]) -> None:
    finals = [k for k in kinds if k not in ORDER]
    assert len(finals) == 1, kinds
    assert kinds[-1] == finals[0], kinds
    ranks = [ORDER[k] for k in kinds[:-1]]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks), kinds
    assert kinds[0] == "appeared", kinds


# -- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize("with_events", [True, False], ids=["stream", "no-stream"])
def test_events_until_empty_reports_each_lifecycle_in_order(
    with_events: bool, request: pytest.FixtureRequest
) -> None:
    hub: Hub = request.getfixturevalue("hub" if with_events else "hub_without_events")
    ok = hub.enqueue(4)
    (bad,) = hub.enqueue(1, aspect_ratio="21:9")
    result = run(
        "events", "--host", hub.url, "--model", MODEL,
        "--jsonl", "--until-empty", "--interval", "0.5", "--timeout", "20",
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.stderr)
    per_id = events_by_id(result.stdout)
    assert set(per_id) == {*ok, bad}
    for kinds in per_id.values():
        assert_lifecycle_order(kinds)
    assert {per_id[g][-1] for g in ok} == {"succeeded"}
    assert per_id[bad][-1] == "failed"
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for line in lines:
        if line["event"] == "succeeded":
            assert line["result_url"].startswith("https://")
        if line["event"] == "failed":
            assert "aspect_ratio" in line["error"]
        assert line["generation"]["model_name"] == MODEL
    sources = {line["source"] for line in lines if line["event"] in ("succeeded", "failed")}
    if with_events:
        assert "events" in sources
    else:
        assert sources <= {"poll", "status-query"}


def test_events_until_empty_on_an_empty_queue_exits_at_once(hub: Hub) -> None:
    result = run("events", "--host", hub.url, "--model", MODEL, "--until-empty", "--timeout", "10")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_events_text_lines_and_timeout(hub: Hub) -> None:
    gid = hub.stuck()
    result = run("events", "--host", hub.url, "--model", MODEL, "--timeout", "1.2")
    assert result.exit_code == 124
    (line,) = result.stdout.splitlines()
    assert fields(line)[1:] == ["appeared", gid, MODEL, "image", "queued"]
    assert result.stderr == f"queue-tui: timed out after 1.2s watching {hub.url}\n"


def test_events_until_empty_timeout_says_what_is_left(hub: Hub) -> None:
    hub.stuck()
    result = run(
        "events", "--host", hub.url, "--model", MODEL, "--until-empty", "--timeout", "1.5"
    )  # fmt: skip
    assert result.exit_code == 124
    assert result.stderr == (
        f"queue-tui: timed out after 1.5s waiting for the queue on {hub.url} to empty (1 queued)\n"
    )


@pytest.mark.parametrize("jsonl", [False, True], ids=["text", "jsonl"])
def test_events_show_the_line_of_a_traceback_that_says_what_went_wrong(
    hub: Hub, jsonl: bool
) -> None:
    """Text lines show a traceback's exception line; --jsonl keeps the whole error."""
    gid = hub.stuck()
    proc = start(
        "events", "--host", hub.url, "--model", MODEL, "--until-empty", "--timeout", "30",
        "--interval", "0.5", *(["--jsonl"] if jsonl else []),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert gid in proc.stdout.readline()  # appeared, as queued
        hub.fail(gid, TRACEBACK)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    last = stdout.splitlines()[-1]
    if jsonl:
        event = json.loads(last)
        assert (event["event"], event["error"]) == ("failed", TRACEBACK)
    else:
        assert fields(last)[1:] == ["failed", gid, MODEL, "image", f"error: {HEADLINE}"]


def test_events_rides_out_an_unreachable_hub_until_its_timeout() -> None:
    """A refused connection is transient: retried with backoff until --timeout (124),
    one stderr line when the outage starts, not one per retry."""
    result = run("events", "--host", "http://127.0.0.1:9", "--interval", "0.5", "--timeout", "3")
    assert result.exit_code == 124
    outage, end = result.stderr.splitlines()
    assert outage.startswith("queue-tui: cannot reach") and "retrying" in outage
    assert (
        end == "queue-tui: timed out after 3s watching http://127.0.0.1:9; the hub never answered"
    )
    assert "Traceback" not in result.output


def test_events_flushes_each_line_and_ends_cleanly_on_ctrl_c(hub: Hub) -> None:
    """Lines reach a pipe while the command runs (for tee and CI logs); SIGINT exits 130
    without a traceback."""
    gid = hub.stuck()
    env = {**os.environ, "PYTHONUNBUFFERED": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "queue_tui", "events", "--host", hub.url, "--model", MODEL],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the first line is flushed
        assert gid in first and "appeared" in first
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in stderr


def test_events_end_quietly_with_exit_0_when_the_reader_goes(hub: Hub) -> None:
    """`queue-tui events | head -1`: a closed pipe is a normal end, not a failure."""
    hub.stuck()
    proc = start("events", "--host", hub.url, "--model", MODEL, "--interval", "0.5")
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert "appeared" in proc.stdout.readline()
        proc.stdout.close()  # what `head -1` does after its line
        hub.enqueue(1)  # news to write into the closed pipe
        stderr = proc.stderr.read()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, stderr) == (0, "")


# -- wait -----------------------------------------------------------------------------------


def test_wait_exits_0_when_all_succeeded(hub: Hub) -> None:
    ids = hub.enqueue(3)
    result = run("wait", *ids, "--host", hub.url, "--interval", "0.5", "--timeout", "20")
    assert result.exit_code == 0, (result.output, result.stderr)
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        outcome, gid, model, url = fields(line)
        assert outcome == "succeeded" and gid in ids and model == MODEL
        assert url.startswith("https://hub.oxen.ai/")
    assert all(hub.truth(g) == "succeeded" for g in ids)
    assert "\r" not in result.stderr  # no progress line when stderr is not a terminal


def test_wait_exits_1_when_one_failed(hub: Hub) -> None:
    (ok,) = hub.enqueue(1)
    (bad,) = hub.enqueue(1, aspect_ratio="21:9")
    result = run("wait", ok, bad, "--host", hub.url, "--interval", "0.5", "--timeout", "20")
    assert result.exit_code == 1, (result.output, result.stderr)
    by_id = {fields(line)[1]: line for line in result.stdout.splitlines()}
    assert by_id[ok].startswith("succeeded")
    assert by_id[bad].startswith("failed")
    assert "error: Invalid aspect_ratio '21:9'" in by_id[bad]


def test_cancel_then_wait_reports_cancelled(hub: Hub) -> None:
    (gid,) = hub.enqueue(1)
    cancelled = run("cancel", gid, "--host", hub.url)
    assert cancelled.exit_code == 0
    assert cancelled.stdout == f"cancelled {gid}\n"
    again = run("cancel", gid, "--host", hub.url)
    assert again.exit_code == 1
    assert again.stdout == f"{gid} already finished\n"
    # Never listed as active by wait: the cancelled list tells.
    result = run("wait", gid, "--host", hub.url, "--json", "--timeout", "20")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["exit_code"] == 1 and document["ok"] is False
    (entry,) = document["generations"]
    assert entry["generation_id"] == gid
    assert entry["outcome"] == "cancelled"
    assert entry["source"] == "status-query"


def test_read_only_config_refuses_cancel(hub: Hub, tmp_path: Path) -> None:
    (gid,) = hub.enqueue(1)
    (tmp_path / "config.toml").write_text("read_only = true\n")
    result = run("cancel", gid, "--host", hub.url)
    assert result.exit_code == 2
    assert hub.truth(gid) == "active"


def test_wait_exits_124_on_timeout(hub: Hub) -> None:
    gid = hub.stuck()
    result = run("wait", gid, "--host", hub.url, "--timeout", "1.5")
    assert result.exit_code == 124
    (line,) = result.stdout.splitlines()
    assert fields(line) == ["timeout", gid, MODEL, "still queued"]
    assert result.stderr == (
        f"queue-tui: timed out after 1.5s waiting for generation {gid} on {hub.url} (queued)\n"
    )


def test_wait_timeout_line_counts_and_names_the_unfinished(hub: Hub) -> None:
    stuck = hub.stuck()
    ghost = "66666666-6666-4666-8666-666666666666"
    result = run("wait", stuck, ghost, "--host", hub.url, "--timeout", "1.5", "--json")
    assert result.exit_code == 124
    assert [g["outcome"] for g in json.loads(result.stdout)["generations"]] == ["timeout"] * 2
    assert result.stderr == (
        f"queue-tui: timed out after 1.5s waiting for 2 generations on {hub.url} "
        f"(1 queued, 1 not seen yet): {stuck}, {ghost}\n"
    )


def test_wait_exits_8_for_an_id_never_seen(hub: Hub) -> None:
    (gid,) = hub.enqueue(1)
    ghost = "44444444-4444-4444-8444-444444444444"
    result = run("wait", gid, ghost, "--host", hub.url, "--grace", "1", "--timeout", "20")
    assert result.exit_code == 8, (result.output, result.stderr)
    outcomes = {fields(line)[1]: fields(line)[0] for line in result.stdout.splitlines()}
    assert outcomes == {gid: "succeeded", ghost: "never-seen"}
    assert result.stderr == (
        f"queue-tui: generation {ghost} was never seen on {hub.url} "
        "(in no answer from the hub after the 1s grace)\n"
    )


def test_wait_shows_the_line_of_a_traceback_that_says_what_went_wrong(hub: Hub) -> None:
    """The text line shows a traceback's exception line; --json keeps the whole error."""
    gid = hub.fail("77777777-7777-4777-8777-777777777777", TRACEBACK)
    text = run("wait", gid, "--host", hub.url, "--timeout", "20")
    assert text.exit_code == 1, (text.output, text.stderr)
    (line,) = text.stdout.splitlines()
    assert fields(line) == ["failed", gid, MODEL, f"error: {HEADLINE}"]
    as_json = run("wait", gid, "--host", hub.url, "--timeout", "20", "--json")
    assert json.loads(as_json.stdout)["generations"][0]["error"] == TRACEBACK


def test_wait_fail_fast_stops_at_the_first_failure(hub: Hub) -> None:
    forever = hub.stuck()
    (bad,) = hub.enqueue(1, aspect_ratio="21:9")
    result = run("wait", forever, bad, "--host", hub.url, "--fail-fast", "--timeout", "20")
    assert result.exit_code == 1
    assert fields(result.stdout.splitlines()[0])[:2] == ["failed", bad]
    assert forever not in result.stdout


def test_wait_without_the_event_stream(hub_without_events: Hub) -> None:
    ids = hub_without_events.enqueue(2)
    result = run(
        "wait", *ids, "--host", hub_without_events.url, "--json", "--interval", "0.5",
        "--timeout", "20",
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.stderr)
    document = json.loads(result.stdout)
    assert [g["outcome"] for g in document["generations"]] == ["succeeded", "succeeded"]
    assert [g["generation_id"] for g in document["generations"]] == ids


def test_wait_no_events_flag_polls_only(hub: Hub) -> None:
    ids = hub.enqueue(2)
    result = run(
        "wait", *ids, "--host", hub.url, "--json", "--no-events", "--interval", "0.5",
        "--timeout", "20",
    )  # fmt: skip
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert {g["source"] for g in document["generations"]} <= {"poll", "status-query"}
    assert hub.sim.subscriber_count == 0


async def test_wait_shows_a_live_progress_line_on_a_terminal(hub: Hub) -> None:
    (gid,) = hub.enqueue(1)
    settings = Settings(host=hub.url, interval=0.5)
    out: list[str] = []
    err: list[str] = []
    progress: list[str] = []
    async with QueueClient(settings) as client:
        code = await run_wait(
            client, settings, [gid], out=out.append, err=err.append,
            progress=progress.append, timeout=20,
        )  # fmt: skip
    assert code == 0
    shown = [p for p in progress if "waiting:" in p]
    assert shown and all(p.startswith("\r\x1b[K") for p in shown)
    assert "ETA" in shown[0]
    assert progress[-1] == "\r\x1b[K"  # cleared before the outcome is printed
    assert fields(out[0])[:2] == ["succeeded", gid]
    assert err == []


# -- the dashboard without a terminal -----------------------------------------------------------


def test_the_dashboard_refuses_without_a_terminal() -> None:
    result = run("--demo")
    assert result.exit_code == 2
    assert "needs a terminal" in result.stderr
    assert "queue-tui events" in result.stderr
