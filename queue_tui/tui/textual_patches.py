"""Small, guarded fixes to the installed Textual, applied when the dashboard starts.

`install()` is idempotent and only patches a function whose source is exactly the one
the fix was written against (a hash of its source): on any other Textual it logs and
leaves Textual alone, so an upgrade can never run a stale patch.

The one fix today: partial line updates cropped to the changed columns.

Textual 8.2.8's `ChopsUpdate.render_segments` (textual/_compositor.py), which writes
every partial screen update to the terminal, crops a chop (a widget's piece of a line)
that only partly overlaps the dirty span with `strip.crop(0, min(end, x2) - x)`: from
the widget's left edge, not from the span's start `x1`. Its `__rich_console__` twin
skips to `x1` (with a `# TODO: crop to x extents`). So a RUN cell of 8 columns that
changes in a table line re-sends every column from the table's left edge to the cell's
end (~340 bytes instead of ~60 with truecolor styles), once per second per running row
in its first minute. Upstream: https://github.com/Textualize/textual/issues/5625.

The replacement writes each chop from `max(x, x1)` to `min(end, x2)`, widened to whole
characters: a double-width character (CJK, emoji) or a grapheme cluster that straddles
either edge is sent whole, from its first cell. (Cutting it as `Strip.crop` does turns
it into spaces; a space written over half a wide character blanks the whole character
on a real terminal, leaving the screen different from the frame.) Every cell written is
the current frame's content, so writing a little more than the dirty span is always
correct.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from rich.cells import _is_single_cell_widths, cell_len, split_graphemes
from rich.segment import Segment

log = logging.getLogger(__name__)

UPSTREAM_ISSUE = "https://github.com/Textualize/textual/issues/5625"

#: sha256 of `inspect.getsource(ChopsUpdate.render_segments)` in the Textual versions
#: whose function this module replaces (8.2.8; checked against the source, so any other
#: version with the identical function is patched too, and a changed one is not).
KNOWN_RENDER_SEGMENTS = frozenset(
    {"4c1cdb567e0b8354bd70cb129da78a42314c39eb8aacd5bf21951cbd5aaba0ef"}
)

_installed: dict[str, bool] = {}
#: What each fix replaced (for tests and for comparing against the unpatched output).
originals: dict[str, Callable[..., Any]] = {}


def source_hash(function: Callable[..., Any]) -> str | None:
    """sha256 of a function's source, None when the source cannot be read."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()


def crop_cells(strip: Any, start: int, end: int) -> tuple[int, list[Segment]]:
    """The segments of `strip` covering cells [start, end), widened to whole graphemes.

    Returns (first cell written, segments). A grapheme is kept when any of its cells is
    in the range (so a wide character cut by either edge is kept whole); a zero-width
    one when its position is in the range.
    """
    out: list[Segment] = []
    first: int | None = None
    pos = 0
    for segment in strip:
        text = segment.text
        if pos >= end:
            break
        if not text:
            continue
        width = cell_len(text)
        seg_end = pos + width
        if seg_end <= start and width:
            pos = seg_end
            continue
        if start <= pos and seg_end <= end:
            out.append(segment)
            if first is None:
                first = pos
        elif _is_single_cell_widths(text):
            a = max(start, pos) - pos
            b = min(end, seg_end) - pos
            out.append(Segment(text[a:b], segment.style, segment.control))
            if first is None:
                first = pos + a
        else:
            spans, _ = split_graphemes(text)
            left = pos
            i0: int | None = None
            i1 = 0
            for s, e, w in spans:
                right = left + w
                keep = (left < end and right > start) if w else (start <= left < end)
                if keep:
                    if i0 is None:
                        i0 = s
                        if first is None:
                            first = left
                    i1 = e
                elif i0 is not None:
                    break
                left = right
            if i0 is not None:
                out.append(Segment(text[i0:i1], segment.style, segment.control))
        pos = seg_end
    return (start if first is None else first), out


def render_segments(self: Any, console: Any) -> str:
    """`ChopsUpdate.render_segments` writing only the dirty span of each chop (see the
    module docstring). Otherwise the same as Textual 8.2.8's."""
    from rich.control import Control
    from textual.strip import Strip

    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]

    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None:
                continue
            if x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            start = max(x, x1) - x
            stop = min(end, x2) - x
            if stop <= start:
                continue
            first, segments = crop_cells(strip, start, stop)
            if not segments:
                continue
            append(move_to(x + first, y).segment.text)
            append(Strip(segments).render(console))

        if y != last_y:
            append("\n")

    return "".join(sequences)


render_segments._queue_tui_patch = True  # type: ignore[attr-defined]


def crop_fix_applies() -> bool:
    """Whether this Textual's function is the one the fix knows (or already patched),
    without installing anything: benchmarks print it, tests skip when it is not."""
    try:
        from textual._compositor import ChopsUpdate
    except ImportError:  # pragma: no cover - a Textual without the module
        return False
    current = ChopsUpdate.__dict__.get("render_segments")
    if getattr(current, "_queue_tui_patch", False):
        return True
    return current is not None and source_hash(current) in KNOWN_RENDER_SEGMENTS


def install_crop_fix() -> bool:
    """Replace `ChopsUpdate.render_segments` if it is the known one; returns whether
    the fix is in place (True also when it already was)."""
    if _installed.get("crop_fix"):
        return True
    try:
        from textual._compositor import ChopsUpdate
    except ImportError:  # pragma: no cover - a Textual without the module
        log.info("textual patch skipped: no textual._compositor.ChopsUpdate")
        return False
    current = ChopsUpdate.__dict__.get("render_segments")
    if getattr(current, "_queue_tui_patch", False):
        _installed["crop_fix"] = True
        return True
    digest = source_hash(current) if current is not None else None
    if digest not in KNOWN_RENDER_SEGMENTS:
        log.info(
            "textual patch skipped: ChopsUpdate.render_segments is not the known one "
            "(sha256 %s); partial line updates stay uncropped (%s)",
            digest,
            UPSTREAM_ISSUE,
        )
        return False
    originals["render_segments"] = current
    ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
    _installed["crop_fix"] = True
    log.debug("textual patch installed: partial line updates cropped (%s)", UPSTREAM_ISSUE)
    return True


def install() -> dict[str, bool]:
    """Install every fix this module knows; returns {name: installed}. Idempotent."""
    return {"crop_fix": install_crop_fix()}


__all__ = [
    "UPSTREAM_ISSUE",
    "crop_cells",
    "crop_fix_applies",
    "install",
    "install_crop_fix",
    "render_segments",
]
