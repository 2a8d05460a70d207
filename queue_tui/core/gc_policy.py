"""Garbage-collector policy: freeze what lives for the whole session, once.

Full collections would otherwise walk every long-lived object (modules, widgets, the
rows) inside whichever poll triggers one. `freeze_long_lived()` runs once per app,
after the first page is painted: it unfreezes what was frozen before (the CLI's
import-time freeze, an earlier app's), collects once, and freezes the rest. Frozen
objects that later die in a cycle are never collected; freezing once bounds that to
what was alive at that moment. Thresholds stay at Python's defaults. Measurements and
the alternatives tried: `benchmarks/RESULTS.md` ("GC policy").
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
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


#: How often a dashboard hands free heap pages back (seconds).
RELEASE_EVERY = 60.0


#: glibc's `mallopt` parameters (malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: Allocations from this size up get their own mapping, returned to the system on free.
MMAP_THRESHOLD = 128 * 1024


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has `malloc_trim`), else None."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


def tune_allocator() -> bool:
    """One malloc arena and a fixed mmap threshold, for a process left open all day.

    Call it before the first thread starts. By default each thread that parses a page
    gets an arena of its own, and every big page body freed raises the mmap threshold
    so the next bodies land in the heap: both fragment it by megabytes an hour
    (benchmarks/RESULTS.md, "Memory soak"). False where there is no glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt(_M_ARENA_MAX, 1)
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return True


def release_free_heap() -> bool:
    """Give the pages malloc holds free back to the system (glibc's `malloc_trim(0)`).

    Left open all day, the heap's free chunks grew by megabytes an hour while what was
    in use stayed flat (benchmarks/RESULTS.md, "Memory soak"). False where there is
    no glibc: nothing to do there."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


__all__ = [
    "RELEASE_EVERY",
    "FreezeReport",
    "freeze_long_lived",
    "imports_paused_gc",
    "release_free_heap",
    "tune_allocator",
]
