"""A property of the outcome resolver: whatever the interleaving of failed requests and
answers, it never reports a wrong outcome, and it reports "unknown" only on evidence
(every source the hub offers answered without the row) or after the limit, with the
reason.

The hub is a scripted client over a ground truth: each generation finished with an
outcome, or is gone (expired: no list has it, get-by-id says 404). Hypothesis picks
which sources the hub offers, whether get-by-id still answers for finished rows (the
docs since 2026-05) or 404s (the older docs), which requests fail and how.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from queue_tui.api.client import FetchResult
from queue_tui.api.errors import (
    BadPayloadError,
    NotFoundError,
    QueueError,
    RateLimitedError,
    RequestRejectedError,
    RequestTimeoutError,
    ServerError,
    UnreachableError,
)
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation, QueuePage
from queue_tui.config import Settings
from queue_tui.core.outcomes import LifecycleWatcher
from queue_tui.core.tracker import EventKind, Tracker

START = 1_764_000_000.0
STEP = 2.0
LIMIT = 60.0
OUTCOMES = ("succeeded", "failed", "cancelled", "gone")


def fault(kind: int) -> QueueError:
    return [
        ServerError("hub error 503", status_code=503),
        RateLimitedError("rate limited (429)", retry_after=1.0),
        BadPayloadError("not JSON"),
        RequestTimeoutError("read timeout"),
        UnreachableError("connection reset"),
    ][kind % 5]


@dataclass
class Hub:
    truth: dict[str, str]
    lists: bool
    gets: bool
    persistent: bool
    old_shape: bool
    faults: Any  # an endless iterator of (fail?, kind)
    history: bool = False
    settings = Settings(host="https://hub.test")
    failed_requests = 0

    def _maybe_fail(self) -> None:
        fail, kind = next(self.faults)
        if fail:
            self.failed_requests += 1
            raise fault(kind)

    def _row(self, gid: str, status: str) -> Generation:
        if self.old_shape:  # the docs' older rows: no status, `model`
            return Generation.model_validate({"generation_id": gid, "model": "m", "prompt": "p"})
        return Generation(generation_id=gid, model_name="m", status=status)

    async def fetch(self, filters: QueueFilters) -> FetchResult:
        await asyncio.sleep(0)
        if not self.lists:
            raise NotFoundError("no such list")
        self._maybe_fail()
        rows = [self._row(g, s) for g, s in self.truth.items() if s == filters.status]
        return FetchResult(QueuePage(count=len(rows), generations=rows), 0.0, 0.0, filters)

    async def get(self, generation_id: str) -> Generation | None:
        await asyncio.sleep(0)
        if not self.gets:
            raise RequestRejectedError("method not allowed", status_code=405)
        self._maybe_fail()
        status = self.truth[generation_id]
        if status == "gone" or not self.persistent:
            return None
        return self._row(generation_id, status) if not self.old_shape else None

    async def get_generation(self, generation_id: str) -> Generation | None:
        await asyncio.sleep(0)
        if not self.history:
            raise RequestRejectedError("method not allowed", status_code=405)
        self._maybe_fail()
        status = self.truth[generation_id]
        return None if status == "gone" else self._row(generation_id, status)


def knowable(hub: Hub, status: str) -> bool:
    """Could any answer of this hub tell the row's true outcome?"""
    if status == "gone":
        return False
    rows_tell = not hub.old_shape
    return hub.lists or (rows_tell and (hub.history or (hub.gets and hub.persistent)))


@settings(max_examples=150)
@given(
    truth=st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=6),
    lists=st.booleans(),
    get=st.booleans(),
    persistent=st.booleans(),
    old_shape=st.booleans(),
    history=st.booleans(),
    pattern=st.lists(st.tuples(st.booleans(), st.integers(0, 4)), min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_never_wrong_and_unknown_only_on_evidence_or_after_the_limit(
    truth: list[str],
    lists: bool,
    get: bool,
    persistent: bool,
    old_shape: bool,
    history: bool,
    pattern: list[tuple[bool, int]],
    seed: int,
) -> None:
    asyncio.run(
        _scenario(truth, lists, get, persistent, old_shape, history, pattern, seed),
    )


async def _scenario(
    truth_list: list[str],
    lists: bool,
    get: bool,
    persistent: bool,
    old_shape: bool,
    history: bool,
    pattern: list[tuple[bool, int]],
    seed: int,
) -> None:
    truth = {f"g{i}": s for i, s in enumerate(truth_list)}
    hub = Hub(truth, lists, get, persistent, old_shape, itertools.cycle(pattern), history)
    now = [START]
    tracker = Tracker(linger=10_000, clock=lambda: now[0])
    watcher = LifecycleWatcher(
        hub,  # type: ignore[arg-type]
        tracker,
        STEP,
        events=False,
        clock=lambda: now[0],
        monotonic=lambda: now[0],
        rng=random.Random(seed),
        backoff_cap=30.0,
        resolve_limit=LIMIT,
    )
    tracker.observe([Generation(generation_id=g, status="processing") for g in truth])
    now[0] += STEP
    events = list(tracker.observe([]))  # every row left the active view
    vanished_at = now[0]
    for _ in range(int(LIMIT / STEP) * 2):
        now[0] += STEP
        events += await watcher.resolve()
        if not tracker.pending_ids():
            break

    finals = {e.generation_id: e for e in events if e.is_final}
    assert len(finals) == len([e for e in events if e.is_final]), "one outcome per row"
    for gid, event in finals.items():
        real = truth[gid]
        if event.kind is not EventKind.UNKNOWN:
            assert event.kind.value == real, (gid, event.source)  # never wrong
            continue
        assert event.reason, "an unknown outcome always says why"
        if event.source == "limit":
            assert event.at - vanished_at >= LIMIT
        else:
            # Concluded from answers: only when the hub's answers cannot tell.
            assert not knowable(hub, real), (gid, real, event.source, event.reason)
    # Past the limit nothing stays pending, whatever failed.
    assert tracker.pending_ids() == []
    if hub.failed_requests == 0:
        # With every request answered, every knowable outcome is found.
        for gid, real in truth.items():
            if knowable(hub, real):
                assert finals[gid].kind.value == real
