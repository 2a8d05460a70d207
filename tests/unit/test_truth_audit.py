"""Truth audit on a fake clock: a client that rides out a misbehaving hub still reports
every outcome it follows as it really was.

The demo hub runs in-process behind ChaosMiddleware (half of all queue list requests,
status lists included, get a fault), with the simulator on a FakeClock. The real
QueueClient, Poller, Tracker and LifecycleWatcher are driven poll by poll while the
clock moves one poll interval per poll, for 30 simulated minutes. The simulator's own
record (`QueueSimulator.finished`) is the ground truth: every generation that finished
during the run and that the tracker saw must end with its true status, none "unknown"
(the hub offers the terminal `status=` lists), none still pending but the last minute's.
Twice: with the spec's rows, and with the docs' older rows that carry no status at all
(only the list a row is in says how it ended).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.client import QueueClient
from queue_tui.config import DEMO_HOST, Settings
from queue_tui.core.outcomes import LifecycleWatcher
from queue_tui.core.poller import Poller, PollFailed
from queue_tui.core.tracker import UNKNOWN_STATUS, LifecycleEvent, Tracker
from queue_tui.demo.chaos import FAULTS
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator

SEED = 7
START = 1_764_000_000.0
INTERVAL = 2.0
RUN = 1800.0
#: Rows that finished this close to the end may still be pending.
LATE = 60.0
CHAOS = 0.5
#: Every fault but the stall, which waits in real time (the socket audit has it).
CHAOS_FAULTS = tuple(f for f in FAULTS if f != "stall")
#: The status lists keep 15 simulated minutes of finished rows (the real hub keeps 24 h):
#: short lists keep the run fast, and 450 polls are ample time to resolve a row.
RETENTION = 900.0


@dataclass
class Audit:
    finished: int = 0
    resolved: int = 0
    wrong: list[tuple[str, str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: Finished in the last LATE seconds, outcome not reported yet (allowed).
    pending_late: int = 0
    #: Finished earlier, and still no outcome: pending, thought active, or forgotten.
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    #: Reported finished while the simulator still ran it.
    premature: list[tuple[str, str]] = field(default_factory=list)
    polls: int = 0
    failed_polls: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def summary(self, shape: str) -> str:
        return (
            f"truth audit ({shape} rows, chaos {CHAOS}, {self.polls} polls, "
            f"{self.failed_polls} failed; faults {self.faults}): "
            f"finished {self.finished}, resolved {self.resolved}, wrong {len(self.wrong)}, "
            f"unknown {len(self.unknown)}, still pending at the end {self.pending_late} "
            f"(finished in the last {LATE:.0f}s) + {len(self.unresolved)} older, "
            f"premature {len(self.premature)}"
        )


async def run_audit(row_shape: str) -> Audit:
    clock = FakeClock(START)
    sim = QueueSimulator(SEED, clock, retention=RETENTION)
    app = create_app(sim, events=False, chaos=CHAOS, chaos_faults=CHAOS_FAULTS, row_shape=row_shape)
    settings = Settings(host=DEMO_HOST, demo=True, interval=INTERVAL)
    client = QueueClient(settings, transport=StreamingASGITransport(app))
    tracker = Tracker(clock=clock)
    watcher = LifecycleWatcher(
        client,
        tracker,
        INTERVAL,
        events=False,
        clock=clock,
        monotonic=clock,
        rng=random.Random(SEED),
    )
    poller = Poller(client, interval=INTERVAL, rng=random.Random(SEED), monotonic=clock)
    seen: set[str] = set()
    #: id -> (the last final event's kind, its time on the shared fake clock)
    final: dict[str, tuple[str, float]] = {}
    audit = Audit()

    def note(events: list[LifecycleEvent]) -> None:
        for event in events:
            seen.add(event.generation_id)
            if event.is_final:
                final[event.generation_id] = (event.kind.value, event.at)

    start = clock()
    async with client:
        while clock() - start < RUN:
            outcome = await poller.poll_once()
            audit.polls += 1
            if isinstance(outcome, PollFailed):
                audit.failed_polls += 1
            else:
                note(await watcher.handle_snapshot(outcome, clock()))
            clock.advance(INTERVAL)
    end = sim.now  # the hub's time at the last request

    truth = sim.finished(since=start)
    sim_knows = truth.keys() | {r["generation_id"] for r in sim.list()}
    for gid, (kind, reported_at) in final.items():
        if gid in sim_knows and (gid not in truth or reported_at < truth[gid][1]):
            audit.premature.append((gid, kind))
    for gid, (status, at) in truth.items():
        if gid not in seen or at > end:
            continue
        audit.finished += 1
        reported = final.get(gid, (None, 0.0))[0]
        if reported is None:
            if at >= end - LATE:
                audit.pending_late += 1
            else:
                entry = tracker.get(gid)
                audit.unresolved.append((gid, entry.state.value if entry else "forgotten"))
        elif reported == UNKNOWN_STATUS:
            audit.unknown.append(gid)
        elif reported != status:
            audit.wrong.append((gid, reported, status))
        else:
            audit.resolved += 1
    for middleware in _chaos_layers(app):
        audit.faults = dict(middleware.injected)
    return audit


def _chaos_layers(app: object) -> list:
    """The ChaosMiddleware in the app's built stack (for the fault counts)."""
    layers = []
    layer = getattr(app, "middleware_stack", None)
    while layer is not None:
        if type(layer).__name__ == "ChaosMiddleware":
            layers.append(layer)
        layer = getattr(layer, "app", None)
    return layers


@pytest.mark.parametrize("row_shape", ["spec", "old"])
async def test_every_outcome_followed_through_chaos_is_the_true_one(row_shape: str) -> None:
    audit = await run_audit(row_shape)
    print(audit.summary(row_shape))
    assert audit.faults, "the chaos layer injected nothing"
    assert audit.finished > 300, audit.summary(row_shape)
    assert not audit.wrong, (audit.summary(row_shape), audit.wrong[:5])
    assert not audit.premature, (audit.summary(row_shape), audit.premature[:5])
    assert not audit.unknown, (audit.summary(row_shape), audit.unknown[:5])
    assert not audit.unresolved, (audit.summary(row_shape), audit.unresolved[:5])
    assert audit.resolved + audit.pending_late == audit.finished
