"""The demo warm-up's fast paths give exactly what the plain versions gave."""

from __future__ import annotations

import random
import uuid

from queue_tui.demo import simulator as sim_module
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator


def test_new_id_is_the_uuid4_string_of_the_same_draw() -> None:
    fast, plain = random.Random(11), random.Random(11)
    for _ in range(2000):
        expected = str(uuid.UUID(int=plain.getrandbits(128), version=4))
        assert QueueSimulator._new_id(fast) == expected


def test_cumulative_weights_draw_like_the_plain_weights() -> None:
    pairs = [
        (sim_module._VIDEO_REPO_CUM, (1, 5, 1)),
        (sim_module._IMAGE_REPO_CUM, (5, 2, 2)),
        (sim_module._FOLDER_CUM, (5, 3, 2)),
        (sim_module._VIDEO_BATCH_CUM, (88, 8, 2, 2)),
        (sim_module._IMAGE_BATCH_CUM, (60, 20, 10, 10)),
    ]
    for cum, weights in pairs:
        population = list(range(len(weights)))
        a, b = random.Random(3), random.Random(3)
        assert [a.choices(population, cum_weights=cum)[0] for _ in range(500)] == [
            b.choices(population, weights=weights)[0] for _ in range(500)
        ]


def test_events_after_the_warm_up_are_still_delivered() -> None:
    """Events are skipped only while warming up: later completions reach subscribers."""
    clock = FakeClock(1_764_000_000.0)
    sim = QueueSimulator(7, clock, warmup=600.0)
    queue = sim.subscribe()
    clock.advance(300.0)
    sim.advance()
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    assert events
    assert {e["status"] for e in events} <= {"succeeded", "failed"}
    assert all(e["generation_id"] for e in events)
