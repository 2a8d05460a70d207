"""Rich's and Textual's module-level render caches, emptied on a timer.

They are bounded by count (`lru_cache`), but a dashboard fills them slowly: every
second's status line is a new string for Rich's cell-width cache, every partial repaint
a new pair of regions for Textual's `Region.intersection` (4,096 entries, full after
about 90 minutes at 80x24). Emptied every `TRIM_EVERY` seconds, each holds what a few
minutes drew, and what older frames drew is released. Only caches that exist in the
installed versions are touched; what they cache is cheap to compute again.
"""

from __future__ import annotations

import functools
from typing import Any

from rich import cells
from textual import _styles_cache, geometry

#: How often the render caches are emptied (seconds).
TRIM_EVERY = 300.0


@functools.cache
def render_caches() -> tuple[Any, ...]:
    """Rich's cell-width cache and the `lru_cache`s on Textual's geometry types and
    styles cache."""
    candidates: list[object] = [getattr(cells, "cached_cell_len", None)]
    # A method cache keyed on the StylesCache itself: it keeps the StylesCache of a
    # widget long gone (a toast), and the lines it drew, until 1,024 others push it out.
    styles_cache = getattr(_styles_cache, "StylesCache", None)
    candidates.append(getattr(styles_cache, "get_inner_outer", None))
    for kind in (geometry.Offset, geometry.Size, geometry.Region, geometry.Spacing):
        candidates += vars(kind).values()
    return tuple(
        c
        for c in candidates
        if callable(getattr(c, "cache_clear", None)) and hasattr(c, "cache_info")
    )


def trim_render_caches() -> int:
    """Empty the render caches; returns how many entries were let go."""
    dropped = 0
    for cache in render_caches():
        dropped += cache.cache_info().currsize
        cache.cache_clear()
    return dropped


__all__ = ["TRIM_EVERY", "render_caches", "trim_render_caches"]
