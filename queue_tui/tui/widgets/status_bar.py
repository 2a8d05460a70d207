"""The status bar: host, connection, freshness, latency, counts, rows shown, filters.

Normally one line. While the hub is failing it grows a second line above the usual one,
the fault line: a short human sentence saying what went wrong (never a stack trace,
never the token), and a live "retrying in Ns" countdown; once the retry is out,
"retrying now…", then how long it has waited ("retrying, no answer for 12s"), so a
stalled retry never reads as the last error's countdown stuck at zero. The usual line
then says how old the data on screen is ("⚠ stale: last update 47s ago"). While pages
arrive on time the bar says "updated just now" (steady, so an idle bar is not rewritten
every second); after `FRESH_INTERVALS` intervals without one it says "updated Ns ago",
and after `STALE_INTERVALS` (a stalled request) that turns into the same stale warning
without any fault. Rows the hub garbled are counted after the rows shown (`⚠ 2 malformed
rows dropped, 3 with bad fields`, shorter at 80 columns).

Built from `Content` parts (plain strings are never parsed as markup); styles use the
theme's variables so the bar follows `--theme`. It repaints only when its text changes,
and takes a layout pass only when it changes height.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from textual.content import Content

from queue_tui.api.models import STATUSES, UNKNOWN_STATUS_INFO
from queue_tui.core.status import (
    NEEDS_USER,
    StatusState,
    data_warnings,
    paused_phrase,
    retry_phrase,
)
from queue_tui.core.timefmt import fmt_coarse
from queue_tui.sanitize import clean
from queue_tui.tui.widgets.detail_pane import DetailBody

#: Below this width the bar drops latency, shortens counts and rows.
COMPACT_WIDTH = 110


def _count_style(style: str) -> str:
    """A status's theme colour (`StatusInfo.style`) as a Content style."""
    return "$text-muted" if style == "muted" else f"${style}"


COUNT_STYLE = {s: _count_style(info.style) for s, info in STATUSES.items()}
FAULT_STYLE = "bold $text-error"
MARKED_STYLE = "bold $text-accent"
#: How the event stream's state reads (outcomes arrive at once while it is live).
EVENTS_LABELS = {
    "live": ("live", "$success"),
    "connecting": ("connecting…", "$text-muted"),
    "retrying": ("retrying", "$warning"),
    "off": ("off", "$text-muted"),
    "unavailable": ("off", "$text-muted"),
}


def _count_parts(counts: Counter[str], compact: bool) -> list[tuple[str, str] | str]:
    parts: list[tuple[str, str] | str] = []
    unknown = UNKNOWN_STATUS_INFO
    for status in sorted(counts, key=lambda s: (STATUSES.get(s, unknown).rank, s)):
        n = counts[status]
        info = STATUSES.get(status)
        glyph = (info or unknown).glyph
        word = info.word if info else clean(status, max_len=12)
        label = f"{glyph}{n}" if compact else f"{glyph} {n} {word}"
        if parts:
            parts.append(" ")
        parts.append((label, COUNT_STYLE.get(status) or _count_style(unknown.style)))
    return parts


def render_fault_line(state: StatusState, width: int) -> Content:
    """`✖ <sentence> — retrying in 12s · r retries now`: the countdown is never cut."""
    assert state.error is not None
    usable = max(20, width - 2)  # the bar's padding
    countdown = f" — {retry_phrase(state)}"
    # (While a retry is out, r only queues another one after it.)
    extra = " · r retries now" if not state.paused and not state.in_flight else ""
    if state.error_kind in NEEDS_USER and not state.paused and not state.in_flight:
        extra = "" if state.stopped else " · r after fixing it"
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


Piece = tuple[str, str] | str


@dataclass
class _Segment:
    """A part of the state line: its forms, longest first (an empty one leaves the part
    out), and what comes before it: a space, or the separator (`sep`)."""

    forms: list[list[Piece]]
    sep: bool = False
    #: A space before it only right after this part (else the separator).
    after: str | None = None
    level: int = 0

    @property
    def pieces(self) -> list[Piece]:
        return self.forms[self.level]

    def shorten(self) -> bool:
        if self.level + 1 < len(self.forms):
            self.level += 1
            return True
        return False


#: What gives way, in order, while the state line is too long for the bar: the least
#: important parts first (a name again: shorter again, or left out). Below
#: `COMPACT_WIDTH` the bar starts with the first `COMPACT_STEPS` steps taken. What says
#: what is happening to the rows (the counts, a stale warning, rows dropped, the event
#: stream, a pause) gives way last, or never.
SHORTEN_ORDER = (
    "latency",
    "sep",
    "counts",
    "rows",
    "waiting",
    "host",
    "updated",
    "warning",
    "warning",
    "filters",
    "stale",
    "marked",
    "host",
    "filters",
    "filters",
    "rows",  # (only "282/282": the counts add up to it; a filtered "97/282" stays)
    "host",
    "waiting",  # (the stale warning says it too)
    "marked",  # ("3 marked" stays: what a cancel would act on)
    "paused",
)
COMPACT_STEPS = 6


def _segments(state: StatusState, compact: bool) -> dict[str, _Segment]:
    """The state line's parts, in order (see `SHORTEN_ORDER` for their importance)."""
    parts: dict[str, _Segment] = {}
    if state.error is not None:
        pass  # the fault line above says it
    elif state.paused:
        phrase = f"⏸ {paused_phrase(state)}"
        parts["paused"] = _Segment([[(phrase, "bold $warning")], [("⏸ paused", "bold $warning")]])
    elif state.polls == 0:
        parts["connecting"] = _Segment([[("◌ connecting", "$text-muted")]])
    elif state.stale:
        parts["waiting"] = _Segment(
            [[("◌ waiting for the hub", "bold $warning")], [("◌ waiting", "bold $warning")], []]
        )
    else:
        parts["live"] = _Segment([[("● live", "bold $success")]])
    # Each shorter host keeps "via relay": which link the rows come through, and the
    # relay's own trouble with the hub (its rows may be older than they look).
    via: list[Piece] = [(" via relay", "$text-muted")] if state.via_relay else []
    if state.via_relay and state.relay_upstream:
        via.append((f" · upstream {clean(state.relay_upstream, max_len=60)}", "bold $warning"))
    parts["host"] = _Segment(
        [[(clean(state.host, max_len=n), "bold"), *via] for n in (60, 24, 12)] + [[]]
    )
    warnings = data_warnings(state)
    if state.since_ok is not None:
        # Steady while fresh (polls land every interval: a seconds count would rewrite
        # the line every second, the biggest share of an idle dashboard's bytes); the
        # age shows once a poll is late, coarse after the first minute.
        fresh = state.fresh
        ago = "just now" if fresh else f"{fmt_coarse(state.since_ok)} ago"
        if state.stale:
            style = "bold $warning"
            parts["stale"] = _Segment(
                [[(f"⚠ stale: last update {ago}", style)], [(f"⚠ stale {ago}", style)]]
            )
        elif not (fresh and compact and warnings):
            # (At 80 columns "● live" says "just now" well enough to leave the room to a
            # warning about the rows.)
            parts["updated"] = _Segment([[(f"updated {ago}", "$text-muted")], []])
    elif state.error is not None:
        parts["no-data"] = _Segment([[("no data yet", "$text-muted")]])
    if state.latency is not None and not state.stale:
        parts["latency"] = _Segment([[(f"{state.latency * 1000:.0f}ms", "$text-muted")], []])
    if state.counts:
        counts = [_count_parts(state.counts, False), _count_parts(state.counts, True)]
    else:
        counts = [[("no rows", "$text-muted")]]
    parts["counts"] = _Segment(counts, sep=True)
    filtered = state.shown != state.total
    bold = "bold" if filtered else ""
    rows: list[list[Piece]] = [
        [(f"{state.shown} of {state.total} rows", bold)],
        [(f"{state.shown}/{state.total}", bold)],
    ]
    parts["rows"] = _Segment(rows if filtered else [*rows, []], sep=True)
    if warnings:
        parts["warning"] = _Segment([[(w, "$warning")] for w in warnings], after="rows")
    if state.marked:
        n, hidden = state.marked, state.marked_hidden
        forms: list[list[Piece]] = [[(f"{n} marked", MARKED_STYLE)]]
        if hidden:
            forms[:0] = [
                [(f"{n} marked, {hidden} hidden by the view", MARKED_STYLE)],
                [(f"{n} marked, {hidden} hidden", MARKED_STYLE)],
            ]
        parts["marked"] = _Segment(forms, sep=True)
    if state.filters:
        parts["filters"] = _Segment(
            [[(clean(state.filters, max_len=n), "$accent")] for n in (80, 40, 20)] + [[]],
            sep=True,
        )
    if state.events is not None and state.error is None:  # the fault line says enough
        word, style = EVENTS_LABELS.get(state.events, ("off", "$text-muted"))
        parts["events"] = _Segment([[(f"events: {word}", style)]], sep=True)
    return parts


def render_state_line(state: StatusState, width: int) -> Content:
    """The bar's usual line, fitted to `width`: while it is too long the least important
    parts are shortened or left out first (`SHORTEN_ORDER`); the CSS ellipsis only cuts
    what still does not fit at the smallest sizes."""
    compact = width < COMPACT_WIDTH
    usable = max(20, width - 2)  # the bar's padding
    parts = _segments(state, compact)
    narrow_sep = [False]

    def assemble() -> Content:
        sep = (" │ " if narrow_sep[0] else "  │ ", "$text-muted")
        pieces: list[Piece] = []
        previous = ""
        for name, part in parts.items():
            if not part.pieces:
                continue
            if pieces:
                spaced = part.after == previous if part.after else not part.sep
                pieces.append(" " if spaced else sep)
            pieces += part.pieces
            previous = name
        return Content.assemble(*pieces)

    def shorten(name: str) -> bool:
        if name == "sep":
            changed, narrow_sep[0] = not narrow_sep[0], True
            return changed
        part = parts.get(name)
        return part is not None and part.shorten()

    steps = iter(SHORTEN_ORDER)
    if compact:
        for _, name in zip(range(COMPACT_STEPS), steps, strict=False):
            shorten(name)
    line = assemble()
    for name in steps:
        if line.cell_length <= usable:
            break
        if shorten(name):
            line = assemble()
    return line


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
        # The render functions take the bar's whole width (they leave its padding).
        width = self.size.width + self.styles.gutter.width if self.size.width else 120
        content = render_status(state, width)
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
