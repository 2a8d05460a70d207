"""The GC policy freezes what is alive, frees what is garbage, and pins nothing for good.

Each test starts from and leaves an unfrozen heap (the fixture unfreezes), so the rest
of the test session is collected as usual.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from queue_tui.core.gc_policy import FreezeReport, freeze_long_lived


class Node:
    """A container object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.collect()


def test_it_freezes_what_is_alive_and_leaves_thresholds_alone() -> None:
    thresholds = gc.get_threshold()
    kept = Node()
    report = freeze_long_lived()
    assert isinstance(report, FreezeReport)
    # Frozen objects can only leave the permanent generation by being freed, and a
    # server thread another test left running in this worker may free a few meanwhile.
    assert 0 <= report.frozen - gc.get_freeze_count() < 1000
    assert gc.get_freeze_count() > 0
    assert report.seconds >= 0
    assert gc.get_threshold() == thresholds
    # The frozen object is out of every generation the collector scans.
    assert not any(o is kept for g in (0, 1, 2) for o in gc.get_objects(generation=g))


def test_garbage_that_exists_when_it_runs_is_collected_not_frozen() -> None:
    was_enabled = gc.isenabled()
    gc.disable()  # no automatic collection may free the cycle first
    try:
        node, ref = cycle()
        del node
        assert ref() is not None
        report = freeze_long_lived()
    finally:
        if was_enabled:
            gc.enable()
    assert ref() is None
    assert report.collected >= 2


def test_acyclic_frozen_objects_are_still_freed_by_reference_counting() -> None:
    node = Node()
    ref = weakref.ref(node)
    freeze_long_lived()
    del node
    assert ref() is None


def test_a_frozen_cycle_stays_until_the_next_call_unfreezes_and_collects_it() -> None:
    node, ref = cycle()
    freeze_long_lived()
    del node
    gc.collect()
    assert ref() is not None  # pinned: this is the cost the module docstring bounds
    freeze_long_lived()  # e.g. the next app of a test session
    assert ref() is None


def test_allocator_calls_reach_glibc_where_it_is_and_are_no_ops_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ctypes.util
    import platform

    from queue_tui.core import gc_policy

    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert gc_policy.release_free_heap() is expected
    assert gc_policy.tune_allocator() is expected
    gc_policy._glibc.cache_clear()
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    try:
        assert gc_policy.release_free_heap() is False
        assert gc_policy.tune_allocator() is False
    finally:
        gc_policy._glibc.cache_clear()
