"""Caches that live as long as the dashboard keep a count of small entries and let go of
what the hub sent once its rows are gone; the render caches hold a few minutes of frames
(issue #11, "Bounded state for an all-day run")."""

from __future__ import annotations

import gc
import tracemalloc

from rich.cells import cell_len
from textual.geometry import Offset, Region

from queue_tui.api.models import Generation
from queue_tui.core.stats import NORMALISED_KEPT, group_failures, normalise_error
from queue_tui.tui.render_caches import render_caches, trim_render_caches


def _failed(gid: str, message: str) -> Generation:
    return Generation(generation_id=gid, status="failed", completed_at=10.0, error_message=message)


def _traceback(i: int) -> str:
    frames = "".join(
        f'  File "/srv/worker/pipelines/stage_{i}_{n}.py", line {i % 997 + n}, in run\n'
        for n in range(60)
    )
    return f"Traceback (most recent call last):\n{frames}RuntimeError: CUDA error {i}"


def test_the_error_groups_cache_does_not_keep_messages_its_rows_took_away() -> None:
    # An all-day run sees tens of thousands of distinct failure messages (a hub's
    # tracebacks run to kilobytes); the grouping cache must not keep them all.
    messages = 3 * NORMALISED_KEPT
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(messages):
            message = _traceback(i)
            assert len(message) > 3000
            assert normalise_error(message) == "RuntimeError: CUDA error <n>"
        del message
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Kept: at most NORMALISED_KEPT short keys and results (~0.2 MB), not the
    # messages themselves (11 MB).
    assert kept - before < 1_000_000, kept - before


def test_a_long_message_keyed_by_its_digest_still_groups_like_the_same_text() -> None:
    long = _traceback(7)
    rows = [
        _failed("a", long),
        _failed("b", _traceback(7)),
        _failed("c", _traceback(8)),
        _failed("d", "disk full"),
    ]
    for _ in range(2):  # computed, then from the cache: the same groups
        groups = group_failures(rows)
        assert [(g.key, g.count) for g in groups] == [
            ("RuntimeError: CUDA error <n>", 3),
            ("disk full", 1),
        ]


def test_the_render_caches_are_emptied_and_let_go_of_old_frames() -> None:
    # Rich's and Textual's module caches fill slowly (a new status line every second, a
    # new repaint region every frame); the dashboard empties them on a timer.
    caches = {cache.__qualname__: cache for cache in render_caches()}
    assert {"cached_cell_len", "Region.intersection", "Region.translate"} <= set(caches)
    screen = Region(0, 0, 80, 24)
    for i in range(500):
        cell_len(f"▶{i} running ◷{i * 7} queued │ updated {i}s ago │ {i % 97}ms")
        screen.intersection(Region(i % 80, i % 24, 1 + i % 13, 1 + i % 5))
        screen.translate(Offset(i % 3, i))
    filled = sum(cache.cache_info().currsize for cache in caches.values())
    assert filled >= 1500
    assert trim_render_caches() == filled
    assert all(cache.cache_info().currsize == 0 for cache in caches.values())
    # Still correct afterwards: they fill again from what is drawn next.
    assert cell_len("▶15 ◷485") == 8
    assert screen.intersection(Region(70, 20, 20, 20)) == Region(70, 20, 10, 4)
