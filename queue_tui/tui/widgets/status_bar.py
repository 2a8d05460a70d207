"""One line of state: host, connection, freshness, latency, counts, rows shown, filters.

Built from `Content` parts (plain strings are never parsed as markup); styles use the
theme's variables so the bar follows `--theme`. It repaints only when its text changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from textual.content import Content
from textual.widgets import Static

from queue_tui.core.sanitize import clean
from queue_tui.core.timefmt import fmt_coarse
from queue_tui.tui.presentation import STATUS_LABELS, STATUS_RANK, UNKNOWN_GLYPH

#: "updated Ns ago" becomes a warning after this many missed intervals.
STALE_INTERVALS = 3
COUNT_STYLE = {
    "queued": "$warning",
    "processing": "$primary",
    "in_progress": "$primary",
    "succeeded": "$success",
    "failed": "$error",
    "cancelled": "$text-muted",
}


@dataclass
class StatusState:
    """Everything the status bar shows; the app fills it in."""

    host: str = ""
    paused: bool = False
    #: Last poll error (cleaned), None once a poll succeeds.
    error: str | None = None
    #: Seconds until the next retry while failing.
    retry_in: float | None = None
    #: Seconds since the last good page (None: none yet).
    since_ok: float | None = None
    interval: float = 2.0
    latency: float | None = None
    counts: Counter[str] = field(default_factory=Counter)
    shown: int = 0
    total: int = 0
    dropped: int = 0
    filters: str = ""
    polls: int = 0


def _count_parts(counts: Counter[str], compact: bool) -> list[tuple[str, str] | str]:
    parts: list[tuple[str, str] | str] = []
    for status in sorted(counts, key=lambda s: (STATUS_RANK.get(s, 3), s)):
        n = counts[status]
        glyph, word = STATUS_LABELS.get(status, (UNKNOWN_GLYPH, clean(status, max_len=12)))
        label = f"{glyph}{n}" if compact else f"{glyph} {n} {word}"
        if parts:
            parts.append(" ")
        parts.append((label, COUNT_STYLE.get(status, "$secondary")))
    return parts


def render_status(state: StatusState, width: int) -> Content:
    compact = width < 110
    sep = ("  │ " if not compact else " │ ", "$text-muted")
    parts: list[tuple[str, str] | str] = []
    if state.error is not None:
        retry = f" · retry in {state.retry_in:.0f}s" if state.retry_in is not None else ""
        if state.paused:
            retry = " · paused"
        limit = max(12, width - 45) if compact else 90
        parts.append((f"✖ {clean(state.error, max_len=limit)}{retry}", "bold $error"))
    elif state.paused:
        parts.append(("⏸ paused", "bold $warning"))
    elif state.polls == 0:
        parts.append(("◌ connecting", "$text-muted"))
    else:
        parts.append(("● live", "bold $success"))
    if not (compact and state.error is not None):  # narrow and failing: the error first
        parts += [" ", (state.host if not compact else clean(state.host, max_len=24), "bold")]
    if state.since_ok is not None:
        stale = state.since_ok > STALE_INTERVALS * state.interval and not state.paused
        # Coarse after the first minute: a paused or failing dashboard stays quiet.
        ago = "just now" if state.since_ok < 1 else f"{fmt_coarse(state.since_ok)} ago"
        if stale or state.error is not None:
            parts += [" ", (f"⚠ stale, updated {ago}", "bold $warning")]
        else:
            parts += [" ", (f"updated {ago}", "$text-muted")]
    if state.latency is not None and not compact:
        parts += [" ", (f"{state.latency * 1000:.0f}ms", "$text-muted")]
    parts.append(sep)
    if state.counts:
        parts += _count_parts(state.counts, compact)
    else:
        parts.append(("no rows", "$text-muted"))
    parts.append(sep)
    rows = f"{state.shown}/{state.total}" if compact else f"{state.shown} of {state.total} rows"
    parts.append((rows, "bold" if state.shown != state.total else ""))
    if state.dropped:
        parts += [" ", (f"⚠ {state.dropped} malformed dropped", "$warning")]
    if state.filters:
        parts += [sep, (clean(state.filters, max_len=80), "$accent")]
    return Content.assemble(*parts)


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.state = StatusState()
        self._last: Content | None = None

    def set_state(self, state: StatusState) -> bool:
        """Show `state`; returns whether the text changed."""
        self.state = state
        content = render_status(state, self.size.width or 120)
        if self._last is not None and content.is_same(self._last):
            return False
        self._last = content
        # One line, fixed height: no layout pass (that would repaint other widgets too).
        self.update(content, layout=False)
        return True

    def on_resize(self) -> None:
        self._last = None
        self.set_state(self.state)

    @property
    def text(self) -> str:
        return self._last.plain if self._last is not None else ""
