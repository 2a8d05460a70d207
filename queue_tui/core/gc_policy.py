"""Garbage-collector policy of the dashboard: freeze what lives for the whole session.

Why: Python's cyclic GC scans every tracked container object in a full (generation 2)
collection. The dashboard holds ~60,000 objects that live as long as the process
(modules, classes, functions, the widget tree) and, at 10,000 rows, ~70,000 more that
live as long as a row (the tracker's `Tracked`, the table's rows). A full collection
walked all ~200,000 and took 60-90 ms (250 ms under load), landing inside whichever poll
happened to trigger it. `gc.freeze()` moves every object alive at that moment into a
permanent generation that collections never scan again.

The policy: `freeze_long_lived()` once, when the first page of rows has been applied
(`QueueApp.on_poll_succeeded`, first page) and before it is painted. It

1. `gc.unfreeze()`s what an earlier call froze (only matters when a process runs several
   apps one after the other, like the tests and benchmarks: the dead app's objects go
   back to the collector instead of staying pinned);
2. runs one full `gc.collect()` (so no garbage that exists right now is frozen; ~25-40 ms
   once at 10,000 rows, a few ms with a small queue);
3. `gc.freeze()`s the rest: import-time objects, the widget tree, the first page's rows.

Measured at 10,000 rows (benchmarks/refresh_cost.py scenario, 30 polls): objects a full
collection scans drop from 150,000-217,000 to 40,000-94,000 (the rest are the rows each
poll brings: their `Generation`s and pydantic field sets, the line cache), so a full
collection costs about a third to half of what it did; freezing at mount instead (before
any row) only drops it to 97,000-153,000.

Trade-off, and why it cannot leak over a day: a frozen object that later becomes part
of an unreachable *cycle* is never collected (acyclic ones, like the first page's rows
and their `Tracked` entries, are freed by reference counting as usual, frozen or not).
The freeze happens once, so what it can pin is bounded by what was alive at that
moment and later died in a cycle: measured 1,500-4,000 objects (widgets built at start-up
and replaced, Textual `Strip`s then in the table's line cache; well under 2 MB), a
constant, not a growth. Freezing again later (every N polls, or after each full
collection) would make every poll's pydantic rows cheap to keep, but each freeze pins
whatever cyclic structures are alive at that moment (tasks, messages, strips), so
memory would grow all day; undoing it needs `gc.unfreeze()` plus a full collection over
everything: the very stall this avoids, only moved. Neither is done.

Thresholds are left at Python's defaults (700, 10, 10): measured on the same scenario,
the young collections cost ~2.3 ms per poll at 700 and ~1.8 ms at 5,000; at 20,000 they
and every full collection stopped entirely for 30 polls, because generation 0 counts
allocations net of frees and a steady dashboard frees about as much as it allocates, so
cyclic garbage (Textual's strips are cyclic) would wait for hours to be collected.
Timing a `gc.collect()` ourselves between polls was rejected: it is the same stall,
moved to a moment when a key press would meet it.

Headless (no Textual): it only uses `gc`.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FreezeReport:
    """What one `freeze_long_lived()` did."""

    #: Objects in the permanent generation afterwards.
    frozen: int
    #: Unreachable objects the collection before the freeze found.
    collected: int
    #: Seconds spent (unfreeze + collect + freeze).
    seconds: float


def freeze_long_lived() -> FreezeReport:
    """Collect, then freeze every object alive now so full collections skip them.

    Call it once per app, after the first page of rows is in (see the module
    docstring for when and why). A second call first unfreezes what the first froze.
    """
    started = time.perf_counter()
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    return FreezeReport(gc.get_freeze_count(), collected, time.perf_counter() - started)


__all__ = ["FreezeReport", "freeze_long_lived"]
