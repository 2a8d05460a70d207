"""Compact human durations and times, shared by the dashboard and the CLI."""

from __future__ import annotations

from datetime import datetime

DASH = "—"


def fmt_duration(seconds: float | None) -> str:
    """`7s`, `3m12s`, `1h04m`, `2d03h`; a dash when unknown."""
    if seconds is None:
        return DASH
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


#: The most cells `fmt_coarse` ever takes (`23h59m`): the table's time columns fit it.
COARSE_WIDTH = 6


def fmt_coarse(seconds: float | None) -> str:
    """Like fmt_duration but ticking coarsely: seconds only during the first minute,
    then whole minutes, then hours. A row's relative time repaints at most once a
    minute after its first minute, which keeps an idle dashboard quiet over ssh.

    Never wider than `COARSE_WIDTH`: `59s`, `59m`, `23h59m`, `9d23h`, then whole days
    (`370d`), then years (`12y`)."""
    if seconds is None:
        return DASH
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    m = s // 60
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    if d < 10:
        return f"{d}d{h:02d}h"
    if d < 1000:
        return f"{d}d"
    years = d // 365
    return f"{years}y" if years < 100_000 else ">1e5y"


def fmt_local(ts: float | None) -> str:
    """Local wall-clock time of a Unix timestamp, `2026-11-29 14:03:07`."""
    if ts is None:
        return DASH
    try:
        return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return DASH
