"""The status bar: host, connection, freshness, latency, counts, rows shown, filters.

Normally one line. While the hub is failing it grows a second line above the usual one,
the fault line: a short human sentence saying what went wrong (never a stack trace,
never the token), and a live "retrying in Ns" countdown; the usual line then says how
old the data on screen is ("⚠ stale: last update 47s ago"). While pages arrive on time
the bar says "updated just now" (steady, so an idle bar is not rewritten every second);
after `FRESH_INTERVALS` intervals without one it says "updated Ns ago", and after
`STALE_INTERVALS` (a stalled request) that turns into the same stale warning without
any fault.

Built from `Content` parts (plain strings are never parsed as markup); styles use the
theme's variables so the bar follows `--theme`. It repaints only when its text changes,
and takes a layout pass only when it changes height.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from textual.content import Content

from queue_tui.api.errors import AuthError, QueueError, RateLimitedError
from queue_tui.core.sanitize import clean
from queue_tui.core.timefmt import fmt_coarse
from queue_tui.tui.presentation import STATUS_LABELS, STATUS_RANK, UNKNOWN_GLYPH
from queue_tui.tui.widgets.detail_pane import DetailBody

#: "updated Ns ago" becomes a warning after this many missed intervals.
STALE_INTERVALS = 3
#: "updated just now" (no seconds count) until this many intervals without a page.
FRESH_INTERVALS = 2
#: Below this width the bar drops latency, shortens counts and rows.
COMPACT_WIDTH = 110
COUNT_STYLE = {
    "queued": "$warning",
    "processing": "$primary",
    "in_progress": "$primary",
    "succeeded": "$success",
    "failed": "$error",
    "cancelled": "$text-muted",
    "finishing": "$text-muted",
}
FAULT_STYLE = "bold $text-error"
#: How the event stream's state reads (outcomes arrive at once while it is live).
EVENTS_LABELS = {
    "live": ("live", "$success"),
    "connecting": ("connecting…", "$text-muted"),
    "retrying": ("retrying", "$warning"),
    "off": ("off", "$text-muted"),
    "unavailable": ("off", "$text-muted"),
}
#: Kinds of fault the user has to act on (retrying alone will not fix them).
NEEDS_USER = frozenset({"auth", "not_found", "insecure", "rejected"})
#: A sentence that lets the user act on a 401/403 without any token ever being shown.
SET_TOKEN_HINT = "set one with --token or OXEN_API_KEY"


def fault_summary(error: QueueError) -> str:
    """The status bar's short sentence for a failed poll (cleaned, one line)."""
    if isinstance(error, RateLimitedError):
        # The countdown next to it already says how long the hub asked us to wait.
        return "rate limited by the hub (429)"
    if isinstance(error, AuthError):
        what = "unauthorised (401)" if error.status_code == 401 else "forbidden (403)"
        source = _short_source(error.token_source)
        if source is None:
            return f"{what}: no API token was sent; {SET_TOKEN_HINT}"
        return f"{what}: the token from {source} was refused; {SET_TOKEN_HINT}"
    return clean(error.message, max_len=200)


def fault_advice(error: QueueError, token_help: str = "") -> str:
    """The longer form, for a toast or an empty table: what happened, what to do."""
    message = clean(error.message, max_len=300)
    if isinstance(error, AuthError):
        if token_help and token_help not in message:
            message = f"{message}; {token_help}"
        return f"{message}. Polling slowed to once a minute: press r after fixing it."
    if error.kind == "not_found":
        return f"{message} Check --host (or QUEUE_TUI_HOST)."
    if error.kind == "insecure":
        return message
    return f"{message}. Retrying with backoff; r retries now."


def _short_source(source: str | None) -> str | None:
    """`oxen CLI config (/long/path)` -> `oxen CLI config`; None when no token was sent."""
    if not source or source.startswith("none"):
        return None
    return clean(source.split(" (", 1)[0], max_len=40)


@dataclass
class StatusState:
    """Everything the status bar shows; the app fills it in."""

    host: str = ""
    paused: bool = False
    #: The fault sentence of the last poll (`fault_summary`), None once a poll succeeds.
    error: str | None = None
    #: `QueueError.kind` of that fault.
    error_kind: str | None = None
    #: Seconds until the next retry while failing.
    retry_in: float | None = None
    #: A request is on its way (the countdown says "retrying now").
    in_flight: bool = False
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
    #: The completion event stream's state (`EventsState` value), None: not shown.
    #: Last on the line: the first thing an 80-column bar gives up; hidden while polls
    #: fail (the stream then flips between retrying and connecting: noise).
    events: str | None = None

    @property
    def stale(self) -> bool:
        """The rows on screen are older than they should be (a fault, or no answer)."""
        if self.since_ok is None or self.paused:
            return False
        return self.error is not None or self.since_ok > STALE_INTERVALS * self.interval


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


def _countdown(state: StatusState) -> str:
    if state.paused:
        return "paused (p resumes)"
    if state.in_flight or state.retry_in is None or state.retry_in < 0.5:
        return "retrying now…"
    # Rounded up: it says 1s until the retry starts, never "in 0s".
    return f"retrying in {math.ceil(state.retry_in - 0.05)}s"


def render_fault_line(state: StatusState, width: int) -> Content:
    """`✖ <sentence> — retrying in 12s · r retries now`: the countdown is never cut."""
    assert state.error is not None
    usable = max(20, width - 2)  # the bar's padding
    countdown = f" — {_countdown(state)}"
    extra = " · r retries now" if not state.paused else ""
    if state.error_kind in NEEDS_USER and not state.paused:
        extra = " · r after fixing it"
    budget = usable - 2 - len(countdown)
    sentence = clean(state.error, max_len=10_000)
    if len(sentence) + len(extra) > budget:
        extra = ""
    return Content.assemble(
        ("✖ ", FAULT_STYLE),
        (clean(sentence, max_len=max(8, budget)), FAULT_STYLE),
        (countdown, "bold $warning"),
        (extra, "$text-muted"),
    )


def render_state_line(state: StatusState, width: int) -> Content:
    compact = width < COMPACT_WIDTH
    sep = ("  │ " if not compact else " │ ", "$text-muted")
    parts: list[tuple[str, str] | str] = []
    if state.error is not None:
        pass  # the fault line above says it
    elif state.paused:
        parts += [("⏸ paused", "bold $warning"), " "]
    elif state.polls == 0:
        parts += [("◌ connecting", "$text-muted"), " "]
    elif state.stale:
        parts += [("◌ waiting" if compact else "◌ waiting for the hub", "bold $warning"), " "]
    else:
        parts += [("● live", "bold $success"), " "]
    parts.append((clean(state.host, max_len=24 if compact else 60), "bold"))
    if state.since_ok is not None:
        # Steady while fresh (polls land every interval: a seconds count would rewrite
        # the line every second, the biggest share of an idle dashboard's bytes); the
        # age shows once a poll is late, coarse after the first minute.
        fresh = not state.stale and state.since_ok < FRESH_INTERVALS * state.interval
        ago = "just now" if fresh else f"{fmt_coarse(state.since_ok)} ago"
        if state.stale:
            parts += [" ", (f"⚠ stale: last update {ago}", "bold $warning")]
        else:
            parts += [" ", (f"updated {ago}", "$text-muted")]
    elif state.error is not None:
        parts += [" ", ("no data yet", "$text-muted")]
    if state.latency is not None and not compact and not state.stale:
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
        noun = "row" if state.dropped == 1 else "rows"
        parts += [" ", (f"⚠ {state.dropped} malformed {noun} dropped", "$warning")]
    if state.filters:
        parts += [sep, (clean(state.filters, max_len=80), "$accent")]
    if state.events is not None and state.error is None:  # the fault line says enough
        word, style = EVENTS_LABELS.get(state.events, ("off", "$text-muted"))
        parts += [sep, (f"events: {word}", style)]
    return Content.assemble(*parts)


def render_status(state: StatusState, width: int) -> Content:
    """The bar's content: the fault line (while failing), then the state line."""
    line = render_state_line(state, width)
    if state.error is None:
        return line
    return Content.assemble(render_fault_line(state, width), "\n", line)


class StatusBar(DetailBody):
    """One line (two while failing). A new state of the same height repaints only the
    cells that changed (`DetailBody.set_content`): a poll that moves the counts sends
    "▶15 ◷485", not the whole bar."""

    DEFAULT_CSS = """
    StatusBar {
        height: auto;
        max-height: 2;
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
        self._height = 1

    def set_state(self, state: StatusState) -> bool:
        """Show `state`; returns whether the text changed."""
        self.state = state
        content = render_status(state, self.size.width or 120)
        if self._last is not None and content.is_same(self._last):
            return False
        self._last = content
        lines = 2 if state.error is not None else 1
        # Same height: no layout pass (that would repaint other widgets too), and only
        # the cells that changed are repainted.
        self.set_content(content, layout=lines != self._height)
        self._height = lines
        return True

    def on_resize(self) -> None:
        self._last = None
        self.set_state(self.state)

    @property
    def text(self) -> str:
        """What the bar shows, as plain text (both lines while failing)."""
        return self._last.plain if self._last is not None else ""

    @property
    def fault_text(self) -> str:
        """The fault line alone ("" while the hub answers)."""
        if self._last is None or self.state.error is None:
            return ""
        return self._last.plain.split("\n", 1)[0]
