"""Garbage-collector policy of the dashboard: freeze what lives for the whole session.

Why: Python's cyclic GC scans every tracked container object in a full (generation 2)
collection. The dashboard holds ~60,000 objects that live as long as the process
(modules, classes, functions, the widget tree) and, at 10,000 rows, ~80,000 more that
live as long as a row stays (the tracker's `Tracked`, the table's rows). A full
collection walked ~150,000-220,000 objects and took 60-130 ms (250 ms under load),
inside whichever poll happened to trigger it. `gc.freeze()` moves every object alive at
that moment into a permanent generation that collections never scan again.

The policy: `freeze_long_lived()` once per app, right after the first page of rows has
been applied and painted (`QueueApp.on_poll_succeeded`, first page, through
`call_after_refresh`, so it never delays the first rows on screen). It

1. `gc.unfreeze()`s what was frozen before: the CLI's import-time freeze (`cli.py`,
   which pins the few hundred garbage objects the imports left; they are freed now), or
   an earlier app's freeze when a process runs several apps in turn (tests, benchmarks:
   the dead app goes back to the collector instead of staying pinned);
2. runs one full `gc.collect()`, so no garbage that exists now is frozen (once: ~15 ms
   with 100 rows, ~50 ms with 10,000, measured in-process);
3. `gc.freeze()`s the rest: import-time objects, the widget tree, the first page's rows
   (~140,000 objects at 10,000 rows).

Measured at 10,000 rows (the `benchmarks/refresh_cost.py` scenario): every full
collection scans ~110,000 fewer objects (40,000 right after the freeze, then growing with
the rows the scenario leaves pending), so it takes 10-30 ms instead of 55-130 ms.

Trade-off, and why it cannot leak over a day: a frozen object that later becomes part
of an unreachable *cycle* is never collected. Acyclic ones (the first page's
`Generation`s, the `Tracked` entries of rows that finish) are freed by reference
counting as usual, frozen or not. The freeze happens once, so what it can pin is bounded
by what was alive at that moment and later died in a cycle: measured 3,200 objects
(~250 Textual `Strip`s of the first paint, cyclic through their own caches, with their
segments: ~0.3 MB) after 60 polls, a constant, not a growth. Freezing before the first
paint pins ~10 objects instead but delays the first rows by the collection. Freezing
again later (every N polls, or after each full collection) would keep every poll's rows
out of the scans too, but each freeze pins whatever cyclic structures are alive at that
moment (tasks, messages, strips), so memory would grow all day; undoing that needs
`gc.unfreeze()` and a full collection of everything: the very stall, only moved.
Neither is done.

Thresholds are left at Python's defaults (700, 10, 10). Measured on the same scenario:
young collections cost ~2.3 ms per poll at 700 and ~1.8 ms at 5,000; at 20,000 they,
and with them every full collection, stopped for 30 polls: generation 0 counts
allocations net of frees, and a steady dashboard frees about as much as it allocates,
so cyclic garbage (Textual's strips are cyclic) would wait for hours. Running
`gc.collect()` ourselves between polls was rejected too: the same stall, moved to a
moment when a key press would meet it.

Headless (no Textual): it only uses `gc`.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def imports_paused_gc() -> Iterator[None]:
    """The cyclic collector off while a big import runs, and what it made frozen
    (moved to a generation the collector never scans: module-level objects live as
    long as the process anyway) before it is restored. A collector that was already
    off stays off and nothing is frozen. `freeze_long_lived` later unfreezes this."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


__all__ = ["FreezeReport", "freeze_long_lived", "imports_paused_gc"]
