"""The demo data is pinned: the same seed and clock give the same rows as before the
warm-up's draws were spelled out (the digests were computed with the simulator of
commit a331143, which called the `random.Random` methods), and each spelled-out draw
gives what the library method gives on this Python.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from bisect import bisect_right
from typing import Any

import pytest

from queue_tui.demo import simulator as sim_module
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import DEFAULT_MODELS, STATUSES, ModelSpec, QueueSimulator

START = 1_764_000_000.0


def _update(h: Any, sim: QueueSimulator) -> None:
    for status in (None, *STATUSES):
        h.update(json.dumps(sim.list(status=status), sort_keys=True).encode())


def _digest(seed: int, warmup: float, steps: tuple[float, ...]) -> str:
    clock = FakeClock(START)
    sim = QueueSimulator(seed, clock, warmup=warmup)
    h = hashlib.sha256()
    for step in (0.0, *steps):
        clock.advance(step)
        _update(h, sim)
    return h.hexdigest()


@pytest.mark.parametrize(
    ("seed", "warmup", "steps", "expected"),
    [
        (7, 1800.0, (), "a913c6fc136ffce439d7c74d18dbf72babc4919cc4ea314bb46de51f59f47eeb"),
        (
            7,
            1800.0,
            (30.0, 600.0),
            "7e4f7b8f0a38bd4139aa9a1317a12b52d475016af494b5f8382b5766b61025d4",
        ),
        (3, 7200.0, (5.0,), "64a2518c8a776296ad4cfcfaab315badfcac0674e4aa03badee751c719cf3ae4"),
    ],
)
def test_warm_up_and_later_rows_are_unchanged(
    seed: int, warmup: float, steps: tuple[float, ...], expected: str
) -> None:
    assert _digest(seed, warmup, steps) == expected


def test_user_rows_cancels_and_events_are_unchanged() -> None:
    clock = FakeClock(START)
    sim = QueueSimulator(7, clock, warmup=600.0)
    h = hashlib.sha256()
    made = sim.enqueue(
        {"model": "flux-1-dev", "prompt": "a cat", "num_generations": 3, "aspect_ratio": "21:9"}
    )
    made += sim.enqueue({"model": "veo-3-fast", "prompt": "a dog", "num_generations": 2})
    made += sim.enqueue({"model": "my-model", "prompt": "x", "media_type": "video"})
    h.update(json.dumps(made, sort_keys=True).encode())
    assert sim.cancel(made[-1]["generation_id"])
    queue = sim.subscribe()
    clock.advance(900.0)
    _update(h, sim)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    h.update(json.dumps(events, sort_keys=True).encode())
    assert len(events) == 593
    assert h.hexdigest() == "df7fc29fe820b4d3e1ee019e0496361e123b4d7502ef02b57b95233674b0eab7"


# ------------------------------------------------------------ each draw, against the library


def test_below_draws_like_choice_and_randint() -> None:
    fast, plain = random.Random(5), random.Random(5)
    for n in (1, 2, 3, 4, 5, 8, 14, 48, 341, 1721, 2**32):
        for _ in range(300):
            assert sim_module._below(fast.getrandbits, n) == plain.randint(0, n - 1)
            assert sim_module._below(fast.getrandbits, n) == plain.choice(range(n))


def test_prompt_and_target_draw_like_the_plain_calls() -> None:
    fast, plain = random.Random(9), random.Random(9)
    sim = QueueSimulator(1, FakeClock(START), warmup=0.0)
    for media in ("image", "video", "image", "audio"):
        for _ in range(400):
            subjects, styles = (
                (sim_module._VIDEO_SUBJECTS, sim_module._VIDEO_STYLES)
                if media == "video"
                else (sim_module._IMAGE_SUBJECTS, sim_module._IMAGE_STYLES)
            )
            expected = f"{plain.choice(subjects)}, {plain.choice(styles)}"
            assert QueueSimulator._prompt(fast, media) == expected
            if plain.random() < 0.04:
                target: tuple[str | None, ...] = (None, None, None)
            else:
                ns = plain.choice(sim_module._NAMESPACES)
                repo_weights = (1, 5, 1) if media == "video" else (5, 2, 2)
                repo = plain.choices(sim_module._REPOS, weights=repo_weights)[0]
                folder = plain.choices(sim_module._FOLDERS, weights=(5, 3, 2))[0]
                target = (ns, repo, folder)
            assert sim._pick_target(fast, media) == target
    assert fast.getstate() == plain.getstate()


@pytest.mark.parametrize(
    "spec",
    [
        *DEFAULT_MODELS,
        ModelSpec("flat", "image", (5.0, 5.0), slots=1),
        ModelSpec("ints", "video", (20, 90), slots=1, durations=(3, 7)),
    ],
    ids=lambda spec: spec.name,
)
def test_spec_tables_draw_like_the_library(spec: ModelSpec) -> None:
    draws = spec._draws
    fast, plain = random.Random(13), random.Random(13)
    lo, hi = spec.runtime
    for _ in range(2000):
        expected = plain.triangular(lo, hi, lo + (hi - lo) * 0.35)
        u = fast.random()
        if draws.c is None:
            got = draws.lo
        elif u > draws.c:
            got = draws.hi + draws.rspan * math.sqrt((1.0 - u) * draws.c1)
        else:
            got = draws.lo + draws.span * math.sqrt(u * draws.c)
        assert got == expected
    for _ in range(500):
        batch_cum = (88, 96, 98, 100) if spec.media_type == "video" else (60, 80, 90, 100)
        x = fast.random() * draws.batch_total
        assert (
            bisect_right(draws.batch_cum, x, 0, 3)
            == plain.choices(range(4), cum_weights=batch_cum)[0]
        )
        weights = [w for _, _, w in draws.errors]
        assert draws.err_cum is not None
        x = fast.random() * draws.err_total
        assert (
            bisect_right(draws.err_cum, x, 0, draws.err_hi)
            == plain.choices(range(len(weights)), weights=weights)[0]
        )
    assert fast.getstate() == plain.getstate()


def test_arrival_draws_like_expovariate_and_demand() -> None:
    """_schedule_arrival spells out expovariate and _demand: same next arrival."""
    sim = QueueSimulator(4, FakeClock(START), warmup=0.0)
    plain = random.Random(21)
    sim._rng = random.Random(21)
    peak = 1.0 + sum(sim.MODULATION)
    for name, state in sim._models.items():
        for _ in range(50):
            sim._heap.clear()
            after = START + plain.random() * 1000.0
            sim._rng.random()  # keep both generators in step with `after`
            t = after
            for _ in range(10_000):
                t += plain.expovariate(state.rate * peak)
                if plain.random() * peak <= sim._demand(state, t):
                    break
            sim._schedule_arrival(name, after)
            assert sim._heap[0][0] == t
    assert sim._rng.getstate() == plain.getstate()
