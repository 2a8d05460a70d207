"""A team on one relay, over real loopback sockets: fifty viewers of every kind (real
`queue-tui` processes, the `events` runner, `list` loops, headless dashboards) see the
hub's truth while the hub sees one poller; a relay restart is ridden out; `/metrics`
counts exactly what the demo hub's simulator did.

The hub runs on a fake clock moved in steps, each followed by two of the relay's polls,
so every step's queue is one the relay listed (`Truth` works out what it saw)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from queue_tui.api.client import QueueClient
from queue_tui.api.errors import QueueError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import TERMINAL_STATUSES
from queue_tui.config import Settings
from queue_tui.core.dashboard import DashboardModel
from queue_tui.core.poller import Poller, PollFailed, Snapshot
from queue_tui.core.tracker import RowState
from queue_tui.demo.clock import FakeClock
from queue_tui.headless import run_events
from tests.integration.relay_kit import START, Hub, RelayServer, make_relay, until, wait_until

pytestmark = pytest.mark.usefixtures("isolated_env")

#: The relay's poll interval here (fast: the run lasts a few seconds of wall time).
RELAY_INTERVAL = 0.2
#: Viewers poll the relay at the shortest interval a setting allows.
VIEWER_INTERVAL = 0.5
#: Seconds of the hub's (fake) time per step: short beside the demo's run times.
STEP = 2.0


# -- the hub's truth -------------------------------------------------------------------------


class Truth:
    """The demo hub's queue at each step the relay listed, and what its simulator did."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.listed_at: list[float] = [hub.clock()]

    def step(self, relay: RelayServer, steps: int = 1) -> None:
        """Move the hub's clock `steps` times; after each, two polls of the relay: the
        second was sent after the move, so the relay listed that moment's queue."""
        for _ in range(steps):
            self.hub.clock.advance(STEP)
            wanted = relay.relay.polls + 2
            wait_until(lambda w=wanted: relay.relay.polls >= w, what="the relay's polls")
            self.listed_at.append(self.hub.clock())

    def cancel(self, n: int) -> None:
        """Someone cancels `n` queued generations on the hub itself."""
        queued = [r["generation_id"] for r in self.hub.sim.list(status="queued")]
        assert len(queued) >= n
        for gid in queued[-n:]:
            assert self.hub.sim.cancel(gid)

    def active(self) -> set[str]:
        return {row["generation_id"] for row in self.hub.sim.list()}

    def outcomes(self) -> dict[str, str]:
        """Every generation the simulator finished since the start."""
        return {g: s for g, (s, at) in self.hub.sim.finished().items() if at > START}

    def listed(self) -> dict[str, dict]:
        """Finished since the start and active at one of the listed moments (so the
        relay saw it): id -> its row as the hub's history keeps it."""
        seen: dict[str, dict] = {}
        for gid in self.outcomes():
            row = self.hub.sim.lookup(gid)
            assert row is not None, gid
            enqueued, done = row["enqueued_at"], row["completed_at"]
            if any(enqueued <= at < done for at in self.listed_at):
                seen[gid] = row
        return seen


def assert_agrees(name: str, seen: set[str], finished: dict[str, str], truth: Truth) -> None:
    """A viewer's rows and outcomes: still active exactly what the hub has active, and
    every generation it saw that the hub finished, finished as the hub says."""
    outcomes = truth.outcomes()
    assert set(finished) <= seen, name
    active = seen - set(finished)
    assert active == truth.active(), (name, active ^ truth.active())
    assert finished == {g: outcomes[g] for g in seen if g in outcomes}, name


def agrees(seen: set[str], finished: dict[str, str], truth: Truth) -> bool:
    try:
        assert_agrees("", seen, finished, truth)
    except AssertionError:
        return False
    return True


# -- viewers ---------------------------------------------------------------------------------


class JsonlLog:
    """`queue-tui events --jsonl` lines: which ids appeared, how each one ended."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def seen_and_finished(self) -> tuple[set[str], dict[str, str]]:
        seen: set[str] = set()
        finished: dict[str, str] = {}
        for line in list(self.lines):
            event = json.loads(line)
            seen.add(event["generation_id"])
            if event["event"] in ("succeeded", "failed", "cancelled", "unknown"):
                finished[event["generation_id"]] = event["event"]
        return seen, finished


class Process:
    """A real `queue-tui` process; its stdout and stderr lines read as they come."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "queue_tui", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.out = JsonlLog()
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out.add)),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err.append)),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, add) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            add(line.rstrip("\n"))

    def interrupt(self) -> None:
        """Ctrl-C, as a user would."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def stop(self) -> int:
        """Interrupt it; its exit code."""
        self.interrupt()
        try:
            code = self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            for reader in self._readers:
                reader.join(5)
        return code


class Dashboard:
    """A headless dashboard: the dashboard's model and poller against the relay, fed as
    the app feeds them (the page, then the follow-up; the event stream beside)."""

    def __init__(self, url: str) -> None:
        self.settings = Settings(host=url, interval=VIEWER_INTERVAL, timeout=5.0)
        self.client = QueueClient(self.settings)
        self.model = DashboardModel(self.settings, self.client, time.time)
        self.poller = Poller(self.client, self.settings.filters, interval=VIEWER_INTERVAL)
        self.seen: set[str] = set()
        self.failures = 0

    async def _on_poll(self, outcome: Snapshot | PollFailed) -> None:
        if isinstance(outcome, PollFailed):
            self.failures += 1
            self.model.page_failed(outcome)
            return
        self.model.observe_snapshot(outcome)
        self.model.page_shown(outcome)
        self.seen.update(g.generation_id for g in outcome.rows)
        await self.model.follow_up(outcome)

    async def run(self) -> None:
        stream = asyncio.create_task(self.model.watcher.run_event_stream(self.model.queue_events))
        try:
            await self.poller.run(self._on_poll)
        finally:
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stream
            await self.client.aclose()

    def finished(self) -> dict[str, str]:
        return {
            t.generation_id: t.generation.status
            for t in self.model.tracker.tracked()
            if t.state is RowState.FINISHED and t.generation_id in self.seen
        }

    def rows_on_screen(self) -> set[str]:
        view = self.model.rows(time.time())
        return {g.generation_id for g in view.rows}


class ListLoop:
    """`list` in a loop: the queue every half second; at the end, the terminal lists."""

    def __init__(self, url: str) -> None:
        self.client = QueueClient(Settings(host=url, timeout=5.0))
        self.rows: set[str] = set()
        self.seen: set[str] = set()

    async def run(self) -> None:
        async with self.client:
            while True:
                with contextlib.suppress(QueueError):
                    page = (await self.client.fetch()).page
                    self.rows = {g.generation_id for g in page.generations}
                    self.seen |= self.rows
                await asyncio.sleep(VIEWER_INTERVAL)

    async def finished(self) -> dict[str, str]:
        """How what it saw and no longer lists ended, from the relay's terminal lists."""
        out: dict[str, str] = {}
        async with QueueClient(self.client.settings) as client:
            for status in sorted(TERMINAL_STATUSES):
                page = (await client.fetch(QueueFilters(status=status))).page
                out.update({g.generation_id: status for g in page.generations})
        return {g: s for g, s in out.items() if g in self.seen - self.rows}


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def hub() -> Iterator[Hub]:
    h = Hub(FakeClock(START))
    with h.server:
        yield h


def _relay_server(hub: Hub, port: int = 0) -> RelayServer:
    return RelayServer(make_relay(hub.url, hub.clock, interval=RELAY_INTERVAL), port=port)


def _finished_total(text: str) -> Counter[str]:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    totals: Counter[str] = Counter()
    for sample in families["queue_tui_generations_finished"].samples:
        if sample.name.endswith("_total"):
            totals[sample.labels["outcome"]] += int(sample.value)
    return +totals


def _histogram_count(text: str, name: str) -> int:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return int(sum(s.value for s in families[name].samples if s.name.endswith("_count")))


# -- the tests -------------------------------------------------------------------------------


def test_metrics_count_exactly_what_the_hub_did(hub: Hub) -> None:
    truth = Truth(hub)
    with _relay_server(hub) as relay:
        wait_until(lambda: relay.relay.polls >= 2, what="the first polls")
        truth.step(relay, 4)
        truth.cancel(2)
        truth.step(relay, 8)
        listed = truth.listed()
        wait_until(
            lambda: (
                not relay.relay.tracker.pending_ids()
                and sum(_finished_total(httpx.get(f"{relay.url}/metrics").text).values())
                >= len(listed)
            ),
            what="the relay to resolve every outcome",
        )
        text = httpx.get(f"{relay.url}/metrics").text
    outcomes = Counter(row["status"] for row in listed.values())
    assert sum(outcomes.values()) >= 15 and all(outcomes[s] for s in TERMINAL_STATUSES)
    # Every generation the hub finished while the relay watched, once, as it ended.
    assert _finished_total(text) == outcomes
    # The histograms: every run the relay saw running (a run that started and ended
    # between two polls has no start time to measure from: the hub's event has none).
    ran = [
        row
        for row in listed.values()
        if row["status"] in ("succeeded", "failed")
        and row["started_at"] is not None
        and any(row["started_at"] <= at < row["completed_at"] for at in truth.listed_at)
    ]
    assert ran
    assert _histogram_count(text, "queue_tui_generation_runtime_seconds") == len(ran)
    assert _histogram_count(text, "queue_tui_generation_queue_wait_seconds") == len(ran)


def test_a_relay_restart_is_ridden_out_by_its_viewers(hub: Hub) -> None:
    truth = Truth(hub)
    first = _relay_server(hub).__enter__()
    port = first.port
    events = Process("events", "--jsonl", "--host", first.url, "--interval", str(VIEWER_INTERVAL))
    dashboard = Dashboard(first.url)

    async def scenario() -> None:
        nonlocal first
        task = asyncio.create_task(dashboard.run())
        try:
            await until(lambda: dashboard.model.link.polls > 0, "the dashboard's first page")
            await until(lambda: events.out.lines, "the first lines of `events`")
            await asyncio.to_thread(truth.step, first, 4)
            # The relay goes away; generations finish meanwhile.
            await asyncio.to_thread(first.__exit__, None, None, None)
            hub.clock.advance(3 * STEP)
            await until(lambda: any("retrying" in e for e in events.err), "the outage line")
            await until(lambda: dashboard.failures > 0, "the dashboard's failed poll")
            second = _relay_server(hub, port=port)
            await asyncio.to_thread(second.__enter__)
            first = second
            await asyncio.to_thread(truth.step, second, 4)
            await until(
                lambda: any("answers again" in e for e in events.err), "the end of the outage"
            )
            await until(
                lambda: (
                    agrees(dashboard.seen, dashboard.finished(), truth)
                    and agrees(*events.out.seen_and_finished(), truth)
                ),
                "both viewers to agree with the hub",
                timeout=20,
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    try:
        asyncio.run(scenario())
    finally:
        code = events.stop()
        first.__exit__(None, None, None)
    assert code in (0, 130, -signal.SIGINT), (code, events.err)
    assert_agrees("events", *events.out.seen_and_finished(), truth)
    assert_agrees("dashboard", dashboard.seen, dashboard.finished(), truth)
    # One line when the outage began, one when it ended; no traceback. (On a loaded
    # machine the relay itself may turn stale for a moment: another such pair.)
    outage = [e for e in events.err if e.startswith("queue-tui:")]
    assert "the relay answers again" in outage[-1], events.err
    began = ["retrying with backoff" in e for e in outage]
    assert began == [True, False] * (len(outage) // 2), events.err
    assert not any("Traceback" in e for e in events.err), events.err
    # Outcomes of what finished while the relay was away were learned too.
    assert len(events.out.seen_and_finished()[1]) >= 5


def test_fifty_viewers_cost_the_hub_one_poller_and_see_its_truth(hub: Hub, tmp_path: Path) -> None:
    truth = Truth(hub)
    relay = _relay_server(hub).__enter__()
    url = relay.url
    processes = [
        Process("events", "--jsonl", "--host", url, "--interval", str(VIEWER_INTERVAL))
        for _ in range(2)
    ]
    streams = [JsonlLog() for _ in range(15)]
    dashboards = [Dashboard(url) for _ in range(13)]
    loops = [ListLoop(url) for _ in range(20)]
    assert len(processes) + len(streams) + len(dashboards) + len(loops) == 50
    counted: dict[str, int] = {}

    async def run_stream(log: JsonlLog) -> None:
        settings = Settings(host=url, interval=VIEWER_INTERVAL, timeout=5.0)
        async with QueueClient(settings) as client:
            await run_events(client, settings, out=log.add, err=lambda line: None, jsonl=True)

    async def scenario() -> None:
        tasks = [asyncio.create_task(run_stream(log)) for log in streams]
        tasks += [asyncio.create_task(d.run()) for d in dashboards]
        tasks += [asyncio.create_task(loop.run()) for loop in loops]
        try:
            await until(
                lambda: (
                    all(d.model.link.polls for d in dashboards)
                    and all(log.lines for log in streams)
                    and all(p.out.lines for p in processes)
                ),
                "every viewer's first page",
            )
            polls, started = relay.relay.polls, time.monotonic()
            before, served = hub.total(), sum(relay.counts.values())
            await asyncio.to_thread(truth.step, relay, 3)
            truth.cancel(2)
            await asyncio.to_thread(truth.step, relay, 4)
            counted["seconds"] = time.monotonic() - started
            counted["polls"] = relay.relay.polls - polls
            counted["hub"] = hub.total() - before
            counted["served"] = sum(relay.counts.values()) - served

            def everyone_agrees() -> bool:
                return (
                    all(agrees(d.seen, d.finished(), truth) for d in dashboards)
                    and all(agrees(*log.seen_and_finished(), truth) for log in streams)
                    and all(agrees(*p.out.seen_and_finished(), truth) for p in processes)
                    and all(loop.rows == truth.active() for loop in loops)
                )

            await until(everyone_agrees, "every viewer to agree with the hub", timeout=20)
            for loop in loops:
                assert_agrees("list", loop.seen, await loop.finished(), truth)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        for p in processes:
            p.interrupt()
        codes = [p.stop() for p in processes]
        relay.__exit__(None, None, None)
    # Interrupted (130), or ended by the signal itself when it lands during shut-down.
    interrupted = (0, 130, -signal.SIGINT)
    assert all(code in interrupted for code in codes), (codes, [p.err for p in processes])
    for p in processes:
        assert_agrees("events process", *p.out.seen_and_finished(), truth)
    for d in dashboards:
        assert_agrees("dashboard", d.seen, d.finished(), truth)
        assert d.rows_on_screen() >= truth.active()
    outcomes = Counter(truth.outcomes().values())
    assert sum(outcomes.values()) >= 10 and outcomes["cancelled"] == 2, outcomes
    # The hub saw one poller: the relay's polls at its interval (however many viewers),
    # and a few status lists for the cancelled rows; fifty viewers asked the relay
    # many times that.
    assert counted["polls"] <= counted["seconds"] / RELAY_INTERVAL + 2
    assert counted["hub"] <= counted["polls"] + 10, hub.counts
    assert counted["served"] >= 10 * counted["hub"], counted
