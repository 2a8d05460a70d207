"""Truth audit of `queue-tui events` and `queue-tui wait`, as real processes, over a real
loopback socket to a misbehaving demo hub.

The hub answers half of its queue list requests (status lists included) with a fault:
500/502/503, 429 with Retry-After (seconds or a date), a stall longer than the client's
read timeout, a body that is not JSON or not a queue page, malformed and hostile rows.
Its simulator runs on a clock SPEED times faster than real time, so `events` follows
the hub for 30 simulated minutes in half a real minute, and hundreds of generations
finish meanwhile. Afterwards the simulator's own record (`QueueSimulator.finished`) is
the ground truth the commands' output is checked against. Each run is done with the
spec's rows and with the docs' older rows, which carry no status (only the `status=`
list a row is in says how it ended).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from queue_tui.demo.chaos import FAULTS
from queue_tui.demo.server import DemoServer
from queue_tui.demo.simulator import DEFAULT_MODELS, ModelSpec, QueueSimulator

pytestmark = pytest.mark.integration

SEED = 7
START = 1_764_000_000.0
#: Simulated seconds per real second.
SPEED = 60.0
#: The hub's time `events` must be audited over (issue #11: at least 30 minutes).
SIMULATED_RUN = 1800.0
CHAOS = 0.5
#: A stall outlasts the commands' read timeout (`queue-tui --timeout READ_TIMEOUT ...`).
STALL = 3.0
READ_TIMEOUT = 1.5
#: Real seconds `events` runs (its --timeout; exit 124): SIMULATED_RUN on the hub.
EVENTS_RUN = SIMULATED_RUN / SPEED
#: Rows that finished this many real seconds before the end may not be reported yet (a
#: 429's Retry-After alone can hold the client back up to 10 s, and the suite runs
#: beside other tests on two cores).
LATE = 15.0
#: Share of the rows seen appearing and finished (before the last LATE seconds) that
#: must be reported with their true outcome.
REQUIRED = 0.95
#: `wait`'s --timeout (real seconds). Generous: at CHAOS 0.5 a streak of six failed
#: polls backs off for up to a minute, by design; a passing run ends long before it.
WAIT_TIMEOUT = 90
#: Finished rows stay in the status lists this long (simulated; the real hub: 24 h):
#: longer than a `wait` runs, so one that backed off for a minute still finds its rows.
RETENTION = WAIT_TIMEOUT * SPEED
FINALS = ("succeeded", "failed", "cancelled", "unknown")
SHAPES = ("spec", "old")

#: A model only the tests use: no background load, never fails by itself (a failure is
#: forced with an aspect ratio it does not take).
AUDIT_MODEL = "truth-audit"
AUDIT_SPEC = ModelSpec(
    AUDIT_MODEL, "image", (15.0, 45.0), slots=4, fail_rate=0.0, aspect_ratios=("1:1",)
)


class SpedUpClock:
    """Unix time that runs `speed` times faster than the real clock (thread-safe)."""

    def __init__(self, start: float, speed: float) -> None:
        self.start = start
        self.speed = speed
        self._t0 = time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self._t0) * self.speed


@contextlib.contextmanager
def chaos_hub(row_shape: str) -> Iterator[DemoServer]:
    clock = SpedUpClock(START, SPEED)
    sim = QueueSimulator(SEED, clock, retention=RETENTION, models=(*DEFAULT_MODELS, AUDIT_SPEC))
    with DemoServer(
        sim=sim,
        keepalive=0.5,
        tick=0.05,
        chaos=CHAOS,
        chaos_faults=FAULTS,
        chaos_stall=STALL,
        row_shape=row_shape,
    ) as server:
        yield server


def command(url: str, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "queue_tui", "--timeout", str(READ_TIMEOUT),
        *args, "--host", url, "--interval", "1",
    ]  # fmt: skip


def isolated_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OXEN_API_KEY", "QUEUE_TUI_HOST", "QUEUE_TUI_INTERVAL")
    }
    env["OXEN_CONFIG_DIR"] = str(tmp / "oxen")
    env["QUEUE_TUI_CONFIG"] = str(tmp / "config.toml")
    return env


def injected_faults(server: DemoServer) -> dict[str, int]:
    layer: Any = server.app.middleware_stack
    while layer is not None:
        if type(layer).__name__ == "ChaosMiddleware":
            return dict(layer.injected)
        layer = getattr(layer, "app", None)
    return {}


# -- wait -----------------------------------------------------------------------------------


def enqueue(url: str, **body: Any) -> str:
    response = httpx.post(
        f"{url}/api/ai/queue", json={"model": AUDIT_MODEL, "prompt": "a lighthouse", **body}
    )
    response.raise_for_status()
    (generation,) = response.json()["generations"]
    return generation["generation_id"]


def printed_outcomes(stdout: str) -> dict[str, str]:
    """`wait`'s lines start with the outcome, then the id."""
    out = {}
    for line in stdout.splitlines():
        outcome, gid, *_ = line.split()
        out[gid] = outcome
    return out


def start_wait(url: str, ids: list[str], tmp: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        # Generous: a run of failed polls backs off for tens of seconds, by design.
        command(url, "wait", *ids, "--timeout", str(WAIT_TIMEOUT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=isolated_env(tmp),
        text=True,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_wait_prints_each_true_outcome_through_chaos(
    shape: str, tmp_path: Path, events_runs: dict[str, EventsRun]
) -> None:
    """Two `wait`s at once: three ids that succeed (exit 0); one that succeeds, one that
    fails and one cancelled before the wait began, so never listed as active (exit 1).
    (`events_runs` is asked for only to start the `events` audits: they run meanwhile.)"""
    with chaos_hub(shape) as server:
        url = server.url
        ok = [enqueue(url) for _ in range(3)]
        fine = enqueue(url)
        bad = enqueue(url, aspect_ratio="21:9")  # the model refuses it: failed
        gone = enqueue(url)
        assert httpx.delete(f"{url}/api/ai/queue/{gone}").status_code == 200
        runs = {"ok": ok, "mixed": [fine, bad, gone]}
        procs = {name: start_wait(url, ids, tmp_path) for name, ids in runs.items()}
        results = {}
        try:
            for name, proc in procs.items():
                stdout, stderr = proc.communicate(timeout=WAIT_TIMEOUT + 15)
                results[name] = (runs[name], proc.returncode, stdout, stderr)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
        truth = server.sim.outcomes()
        faults = injected_faults(server)
    print(f"wait truth audit ({shape} rows): faults {faults}")
    for name, (ids, code, stdout, stderr) in results.items():
        printed = printed_outcomes(stdout)
        print(f"  {name}: exit {code}, {printed}")
        true = {gid: truth.get(gid, "not finished") for gid in ids}
        assert printed == true, (name, code, stdout, stderr)
        expected = 0 if all(status == "succeeded" for status in true.values()) else 1
        assert code == expected, (name, stdout, stderr)
    # The story the runs were meant to tell: successes, a failure, a cancel.
    assert truth[bad] == "failed" and truth[gone] == "cancelled"
    assert all(truth[gid] == "succeeded" for gid in [*ok, fine])


# -- events ---------------------------------------------------------------------------------


@dataclass
class EventsAudit:
    shape: str
    returncode: int | None = None
    lines: int = 0
    appeared: int = 0
    #: Seen appearing and finished (before the last LATE seconds) at the hub.
    finished: int = 0
    true: int = 0
    unknown: list[str] = field(default_factory=list)
    unreported: list[str] = field(default_factory=list)
    #: (id, reported, truth): a real outcome that is not the true one.
    wrong: list[tuple[str, str, str]] = field(default_factory=list)
    #: An id given two different real outcomes.
    contradicted: list[str] = field(default_factory=list)
    #: Ids not the simulator's (chaos' hostile rows) that got a final event.
    foreign_finals: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    stderr: str = ""
    #: Seconds the hub's clock moved while the command ran.
    simulated: float = 0.0

    def summary(self) -> str:
        share = self.true / self.finished if self.finished else 0.0
        return (
            f"events truth audit ({self.shape} rows, chaos {CHAOS}, x{SPEED:.0f} clock, "
            f"{self.simulated / 60:.0f} simulated minutes, "
            f"exit {self.returncode}, {self.lines} lines; faults {self.faults}): "
            f"appeared {self.appeared}, finished {self.finished}, true {self.true} "
            f"({share:.1%}), wrong {len(self.wrong)}, unknown {len(self.unknown)}, "
            f"unreported {len(self.unreported)}, contradicted {len(self.contradicted)}, "
            f"hostile rows' finals {self.foreign_finals}"
        )


class EventsRun:
    """`queue-tui events --jsonl` against its own chaos hub, in the background."""

    def __init__(self, shape: str, tmp: Path) -> None:
        self.shape = shape
        with contextlib.ExitStack() as stack:
            self.server = stack.enter_context(chaos_hub(shape))
            self.sim: QueueSimulator = self.server.sim
            # Files, not pipes: nobody reads while it runs, and its output outgrows a pipe.
            self.out: IO[str] = stack.enter_context(open(tmp / f"{shape}.jsonl", "w+"))
            self.err: IO[str] = stack.enter_context(open(tmp / f"{shape}.err", "w+"))
            self.start = self.server.clock()
            self.proc = subprocess.Popen(
                command(self.server.url, "events", "--jsonl", "--timeout", str(EVENTS_RUN)),
                stdout=self.out,
                stderr=self.err,
                env=isolated_env(tmp),
                text=True,
            )
            stack.callback(self._kill)
            self._stack = stack.pop_all()
        self.end: float | None = None
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()
        self._audit: EventsAudit | None = None

    def _wait(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(EVENTS_RUN + 30)
        self.end = self.server.clock()  # the hub's time when the command ended

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        self._stack.close()

    def audit(self) -> EventsAudit:
        if self._audit is None:
            self._waiter.join(EVENTS_RUN + 40)
            try:
                self._audit = self._check()
            finally:
                self.close()  # the hub and the output are done with
        return self._audit

    def _check(self) -> EventsAudit:
        audit = EventsAudit(self.shape, returncode=self.proc.poll())
        self.out.seek(0)
        self.err.seek(0)
        audit.stderr = self.err.read()
        appeared: set[str] = set()
        finals: dict[str, list[str]] = {}
        for line in self.out:
            data = json.loads(line)
            audit.lines += 1
            gid, kind = data["generation_id"], data["event"]
            if kind == "appeared":
                appeared.add(gid)
            elif kind in FINALS:
                finals.setdefault(gid, []).append(kind)
        assert self.end is not None
        audit.simulated = self.end - self.start
        truth = self.sim.finished(since=self.start)
        known = truth.keys() | {r["generation_id"] for r in self.sim.list()}
        audit.appeared = len(appeared & known)
        for gid, kinds in finals.items():
            if gid not in known:
                audit.foreign_finals += 1
                continue
            real = [k for k in kinds if k != "unknown"]
            if len(set(real)) > 1:
                audit.contradicted.append(gid)
            status = truth.get(gid, ("still active", 0.0))[0]
            if real and real[-1] != status:
                audit.wrong.append((gid, real[-1], status))
        cutoff = self.end - LATE * SPEED
        for gid, (status, at) in truth.items():
            if gid not in appeared or at > cutoff:
                continue
            audit.finished += 1
            last = finals.get(gid, [None])[-1]
            if last == status:
                audit.true += 1
            elif last == "unknown":
                audit.unknown.append(gid)
            elif last is None:
                audit.unreported.append(gid)
        audit.faults = injected_faults(self.server)
        return audit


@pytest.fixture(scope="session")
def events_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EventsRun]]:
    """Both shapes' runs at once (each on its own hub), from the first test that asks.
    Session-scoped: the tests that tests/conftest.py's ORDER puts between the `wait`
    audits and these checks run while the runs do, instead of a worker waiting on them."""
    tmp = tmp_path_factory.mktemp("truth-audit")
    runs: dict[str, EventsRun] = {}
    try:
        for shape in SHAPES:
            runs[shape] = EventsRun(shape, tmp)
        yield runs
    finally:
        for run in runs.values():
            run.close()


@pytest.mark.parametrize("shape", SHAPES)
def test_events_reports_the_true_outcome_through_chaos(
    shape: str, events_runs: dict[str, EventsRun]
) -> None:
    audit = events_runs[shape].audit()
    print(audit.summary())
    summary = audit.summary()
    assert audit.faults, "the chaos layer injected nothing"
    assert audit.returncode == 124, (summary, audit.stderr[-2000:])
    assert audit.simulated >= SIMULATED_RUN, summary
    # Enough rows that the 95% bar means something (two misses in 30 fail it); how many
    # appear depends on how long chaos holds the client back, so it varies with load.
    assert audit.finished >= 30, summary
    assert not audit.wrong, (summary, audit.wrong[:5])
    assert not audit.contradicted, (summary, audit.contradicted[:5])
    assert audit.true >= REQUIRED * audit.finished, (
        summary,
        audit.unknown[:5],
        audit.unreported[:5],
        audit.stderr[-2000:],
    )
