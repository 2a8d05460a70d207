"""What a row shows, declared once: the table's columns (`COLUMNS`, also read by the `list`
command) and the rules every view of a row shares (table, detail pane, `list`):

- a field the hub sent with a value of the wrong type shows `?` (which fields:
  `core.dashboard.bad_fields`), and so does a time computed from one (`bad_times`);
- a wait or run time still growing (`wait_growing`, `run_growing`) is shown coarse and
  ticks (`fmt_coarse`); a final one is exact (`fmt_duration`) in the detail pane and in
  `list`. The table shows every time coarse: one precision across AGE, WAIT and RUN
  (`AGE 1m` never sits beside `WAIT 1m45s`), and never wider than its column.

Adding a column is one `Column` in `COLUMNS`: the dashboard's table reads it for its
cells, header, sort, layout and ticking; give it a `list_title` to print it in `list`
(`list_columns`: the ones printed for some rows). The table's default order is no
column's: `QUEUE_ORDER` (its header shows no sort arrow).

The History view's table (`HISTORY_COLUMNS`) shows some of the same columns and two of
its own, COST and USER (a history row's `cost` and who enqueued it); `layout` lays out
either set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from queue_tui.api.models import STATUSES, UNKNOWN_STATUS_INFO, Generation, Status
from queue_tui.core.dashboard import (  # a row's marks and its fields of the wrong type
    BAD_VALUE,
    DEFAULT_MARK,
    PENDING,
    SHORT_ID,
    RowMark,
    bad_fields,
)
from queue_tui.core.money import format_money
from queue_tui.core.timefmt import COARSE_WIDTH, DASH, fmt_coarse, fmt_duration, fmt_local
from queue_tui.sanitize import clean, error_headline

# -- statuses as shown ------------------------------------------------------------------


def status_label(status: str, *, max_len: int = 14) -> str:
    """`"✖ failed"`, or `"? <raw>"` (cleaned, shortened) for a status nobody told us about."""
    known = STATUSES.get(status)
    if known is not None:
        return f"{known.glyph} {known.word}"
    return f"{UNKNOWN_STATUS_INFO.glyph} {clean(status, max_len=max(1, max_len - 2))}"


def status_rank(status: str) -> int:
    return STATUSES.get(status, UNKNOWN_STATUS_INFO).rank


# -- fields of the wrong type -------------------------------------------------------------

#: The fields each shown time comes from.
AGE_FIELDS = frozenset({"enqueued_at"})
WAIT_FIELDS = frozenset({"enqueued_at", "started_at"})
RUN_FIELDS = frozenset({"started_at", "completed_at"})
#: The target's parts in order, with the label the detail pane gives one of the wrong type.
TARGET_PARTS = (
    ("target_namespace", "namespace"),
    ("target_repo", "repo"),
    ("target_directory", "folder"),
)


def target_text(gen: Generation, bad: frozenset[str]) -> str:
    """`ns/repo/folder` ("" when none was sent), a part of the wrong type as `?`."""
    if not bad:
        return gen.target
    parts = [BAD_VALUE if name in bad else getattr(gen, name) for name, _ in TARGET_PARTS]
    return "/".join(p for p in parts if p)


def bad_times(gen: Generation, bad: frozenset[str]) -> tuple[bool, bool, bool]:
    """Whether the age, the queue wait and the run time come from a bad field."""
    if not bad:
        return False, False, False
    # A finished row that never started: its wait ends at its completion.
    wait = bad & WAIT_FIELDS or (
        "completed_at" in bad and gen.started_at is None and gen.is_terminal
    )
    return bool(bad & AGE_FIELDS), bool(wait), bool(bad & RUN_FIELDS)


def _field(gen: Generation, name: str, text: str) -> str:
    """`text`, or `?` when the field it shows came with the wrong type."""
    return BAD_VALUE if gen.invalid_fields and name in bad_fields(gen) else text


# -- times: growing or final ------------------------------------------------------------


def wait_growing(gen: Generation) -> bool:
    """The queue wait still grows with the clock (enqueued, not started, not finished)."""
    return gen.enqueued_at is not None and gen.started_at is None and not gen.is_terminal


def run_growing(gen: Generation) -> bool:
    """The run time still grows with the clock (started, not completed, not finished)."""
    return gen.started_at is not None and gen.completed_at is None and not gen.is_terminal


def age_text(gen: Generation, now: float, *, exact: bool = False) -> str:
    """The age (it always grows: coarse, unless `exact`); `?` from a bad field."""
    if gen.invalid_fields and bad_times(gen, bad_fields(gen))[0]:
        return BAD_VALUE
    return (fmt_duration if exact else fmt_coarse)(gen.age_seconds(now))


def wait_text(gen: Generation, now: float, *, exact: bool = False, coarse: bool = False) -> str:
    """The queue wait: coarse while it grows (it ticks) or when `coarse` (the table),
    exact once final or when `exact`; `?` from a bad field."""
    if gen.invalid_fields and bad_times(gen, bad_fields(gen))[1]:
        return BAD_VALUE
    seconds = gen.wait_seconds(now)
    if coarse or (not exact and wait_growing(gen)):
        return fmt_coarse(seconds)
    return fmt_duration(seconds)


def run_text(gen: Generation, now: float, *, exact: bool = False, coarse: bool = False) -> str:
    """The run time: coarse while it grows (a long run repaints once a minute, not every
    second) or when `coarse` (the table), exact once final or when `exact`; `?` from a
    bad field."""
    if gen.invalid_fields and bad_times(gen, bad_fields(gen))[2]:
        return BAD_VALUE
    seconds = gen.run_seconds(now)
    if coarse or (not exact and run_growing(gen)):
        return fmt_coarse(seconds)
    return fmt_duration(seconds)


def durations(gen: Generation, now: float) -> tuple[str, str]:
    """Queue wait and run time, as the table and the detail pane show them."""
    return wait_text(gen, now), run_text(gen, now)


def time_texts(g: Generation, now: float) -> tuple[str, str, str]:
    """Age, wait and run as the table shows them."""
    return (age_text(g, now), *durations(g, now))


# -- marks ------------------------------------------------------------------------------

#: A row that left the queue, outcome not known yet: "… finishing".
PENDING_LABEL = status_label("finishing")
WATCHED_GLYPH = "★"
#: A marked row (`space`) shows it in its first cell (the left edge), readable without
#: colour; the table tints the row too.
MARK_GLYPH = "▌"


# -- cell texts -----------------------------------------------------------------------------

#: Hub strings are cut to this before they become cells (the column crops the rest).
CELL_MAX = 120


def status_text(g: Generation, mark: RowMark = DEFAULT_MARK) -> str:
    """The status cell: `▶ processing`, `… finishing` (outcome pending), `★ failed`;
    `?` for a status of the wrong type."""
    if mark.state == PENDING:
        label = PENDING_LABEL
    elif g.invalid_fields and "status" in bad_fields(g):
        label = BAD_VALUE
    else:
        label = status_label(g.status)
    if mark.watched:
        label = WATCHED_GLYPH + (label[1:] if label != BAD_VALUE else f" {BAD_VALUE}")
    return label


def _text_cell(name: str, max_len: int | None = CELL_MAX, *, dash: bool = False) -> CellText:
    def text(g: Generation, mark: RowMark, now: float) -> str:
        if g.invalid_fields and name in bad_fields(g):
            return BAD_VALUE
        value = getattr(g, name)
        return clean(value, max_len=max_len) if value or not dash else DASH

    return text


def _target_cell(max_len: int | None) -> CellText:
    def text(g: Generation, mark: RowMark, now: float) -> str:
        target = target_text(g, bad_fields(g)) if g.invalid_fields else g.target
        return clean(target, max_len=max_len) or DASH

    return text


def error_text(g: Generation, max_len: int | None = CELL_MAX) -> str:
    """The error's headline (`error_headline`); `—` for a failed row without one."""
    if g.invalid_fields and "error_message" in bad_fields(g):
        return BAD_VALUE
    return error_headline(g.error_message, max_len=max_len) or (
        DASH if g.status == Status.FAILED else ""
    )


def _is_failed(g: Generation) -> bool:
    return g.status == Status.FAILED


# -- sort keys ------------------------------------------------------------------------------


def missing_last(value: Any, reverse: bool) -> tuple[int, Any]:
    """Sort key part that puts unknown values last in either direction."""
    if value is None:
        return (0 if reverse else 1, 0)
    return (1 if reverse else 0, value)


def _queue_group(g: Generation) -> int:
    """2 for a row in flight, 1 for an unknown status, 0 for a finished row."""
    info = STATUSES.get(g.status)
    if info is not None and info.active:
        return 2
    return 0 if g.is_terminal else 1


def _enq(g: Generation) -> float:
    return g.enqueued_at if g.enqueued_at is not None else math.inf


def _by_status(now: float, reverse: bool) -> RowKey:
    return lambda g: (status_rank(g.status), g.status, _enq(g), g.generation_id)


def _by_text(name: str) -> SortKey:
    def key(now: float, reverse: bool) -> RowKey:
        return lambda g: (getattr(g, name).casefold(), _enq(g), g.generation_id)

    return key


def _by_prompt(now: float, reverse: bool) -> RowKey:
    return lambda g: (
        missing_last(g.prompt.casefold() if g.prompt else None, reverse),
        g.generation_id,
    )


def _by_target(now: float, reverse: bool) -> RowKey:
    return lambda g: (missing_last(g.target.casefold() or None, reverse), g.generation_id)


def _by_age(now: float, reverse: bool) -> RowKey:
    # The oldest (the earliest enqueued) has the largest age: "AGE ▼" puts it first.
    return lambda g: (
        missing_last(-g.enqueued_at if g.enqueued_at is not None else None, reverse),
        g.generation_id,
    )


def _by_queue_order(now: float, reverse: bool) -> RowKey:
    # Queue order: rows in flight by enqueue time (the same for any `now`), oldest
    # first, ties by id as the ETAs count positions; then rows whose status the hub
    # invented (shown, but never known to move: they must not sit above the real queue
    # for good); finished rows last. The groups keep that order in either direction.
    # Sorted the other way round (`ascending_key`).
    return lambda g: (
        -_queue_group(g) if reverse else _queue_group(g),
        g.enqueued_at is None,
        g.enqueued_at or 0.0,
        g.generation_id,
    )


def _by_wait(now: float, reverse: bool) -> RowKey:
    return lambda g: (missing_last(g.wait_seconds(now), reverse), g.generation_id)


def _by_run(now: float, reverse: bool) -> RowKey:
    return lambda g: (missing_last(g.run_seconds(now), reverse), g.generation_id)


def _by_error(now: float, reverse: bool) -> RowKey:
    return lambda g: (
        missing_last(error_headline(g.error_message).casefold() or None, reverse),
        g.generation_id,
    )


def _by_id(now: float, reverse: bool) -> RowKey:
    return lambda g: g.generation_id


# -- the columns ------------------------------------------------------------------------------

#: A cell's plain text from the row, its mark and the time.
CellText = Callable[[Generation, RowMark, float], str]
RowKey = Callable[[Generation], Any]
#: `key(now, reverse)`: a sort key over Generations.
SortKey = Callable[[float, bool], RowKey]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the table (and of `list`, when it has a `list_title`)."""

    name: str
    title: str
    text: CellText
    #: None: sorted by the seconds to done the app gives the table (the ETA).
    sort: SortKey | None
    #: The sort key depends on the row alone (kept per row), not on the time or the ETAs.
    sort_static: bool = True
    #: Sorting by it starts with the largest value first (the header's first arrow).
    descending_first: bool = False
    #: The key sorts the direction the other way round (queue order: oldest first).
    ascending_key: bool = False
    #: Width: fixed; or, with `max_width`, fitted to its widest cell between `min_width`
    #: and `max_width` (`width` until a row arrives); or `fill`: what is left over.
    width: int = 0
    min_width: int = 0
    max_width: int = 0
    fill: bool = False
    #: 0: always shown (from the start). 1, 2...: shown when the table is wide enough,
    #: the highest dropped first on a narrow terminal.
    priority: int = 0
    #: In the dashboard's table at all (False: declared for `list` only).
    in_table: bool = True
    #: Its text changes as time passes (recomputed by the tick, rows on screen only).
    ticks: bool = False
    #: Its text reads the row's mark (recomputed when only the mark changes).
    reads_mark: bool = False
    #: Right-aligned (times).
    right: bool = False
    #: The `list` command's column title ("" when `list` leaves it out) and its text,
    #: whole (cleaned, never cut).
    list_title: str = ""
    list_text: Callable[[Generation, float], str] | None = None
    #: On a terminal, `list` cuts the text to this many characters with `…` (0: never);
    #: into a file or a pipe it prints whole values.
    list_width: int = 0
    #: The table and `list` show the column only when one of the rows they show passes
    #: this test (ERROR: a failed row).
    shown_if: Callable[[Generation], bool] | None = None

    @property
    def shown_by_default(self) -> bool:
        return self.priority == 0 and self.in_table and self.shown_if is None

    @property
    def fitted(self) -> bool:
        return self.max_width > 0

    @property
    def least_width(self) -> int:
        """The narrowest the table draws it (without the padding)."""
        return self.min_width if self.fitted or self.fill else self.width


def _age_cell(g: Generation, mark: RowMark, now: float) -> str:
    return age_text(g, now)


def _wait_cell(g: Generation, mark: RowMark, now: float) -> str:
    return wait_text(g, now, coarse=True)


def _run_cell(g: Generation, mark: RowMark, now: float) -> str:
    return run_text(g, now, coarse=True)


_model_list = _text_cell("model_name", None)
_media_list = _text_cell("media_type", None)
_target_list = _target_cell(None)

# On a narrow terminal STATUS, MODEL, AGE and ID stay; then ETA, RUN and WAIT; MEDIA,
# TARGET and PROMPT go first, and ERROR (shown only beside failed rows) before them.
COLUMNS: tuple[Column, ...] = (
    Column(
        "status", "STATUS", lambda g, m, now: status_text(g, m), _by_status,
        width=13, reads_mark=True, list_title="STATUS", list_width=12,
        list_text=lambda g, now: _field(g, "status", clean(g.status)),
    ),
    Column(
        "model", "MODEL", _text_cell("model_name"), _by_text("model_name"),
        width=10, min_width=8, max_width=22, list_title="MODEL", list_width=28,
        list_text=lambda g, now: _model_list(g, DEFAULT_MARK, now),
    ),
    Column(
        "media", "MEDIA", _text_cell("media_type"), _by_text("media_type"),
        width=5, priority=4, list_title="MEDIA", list_width=8,
        list_text=lambda g, now: _media_list(g, DEFAULT_MARK, now),
    ),
    Column(
        "prompt", "PROMPT", _text_cell("prompt", dash=True), _by_prompt,
        min_width=12, fill=True, priority=6,
    ),
    Column(
        "age", "AGE", _age_cell, _by_age,
        descending_first=True, width=COARSE_WIDTH, ticks=True, right=True,
        list_title="AGE", list_text=lambda g, now: age_text(g, now, exact=True),
    ),
    Column(
        "wait", "WAIT", _wait_cell, _by_wait, sort_static=False,
        descending_first=True, width=COARSE_WIDTH, priority=3, ticks=True, right=True,
        list_title="WAIT", list_text=lambda g, now: wait_text(g, now, exact=True),
    ),
    Column(
        "run", "RUN", _run_cell, _by_run, sort_static=False,
        descending_first=True, width=COARSE_WIDTH, priority=2, ticks=True, right=True,
        list_title="RUN", list_text=lambda g, now: run_text(g, now, exact=True),
    ),
    # `short_eta`: `<1m`, `~4m`, `~2h`, `~3d` (the detail pane has the long form).
    Column(
        "eta", "ETA", lambda g, m, now: m.eta, None, sort_static=False,
        width=4, priority=1, reads_mark=True, right=True,
    ),
    Column(
        "target", "TARGET", _target_cell(CELL_MAX), _by_target,
        width=12, min_width=8, max_width=34, priority=5, list_title="REPO", list_width=36,
        list_text=lambda g, now: _target_list(g, DEFAULT_MARK, now),
    ),
    Column(
        "id", "ID", lambda g, m, now: clean(g.generation_id)[:SHORT_ID], _by_id,
        width=SHORT_ID, list_title="ID", list_width=36,
        list_text=lambda g, now: clean(g.generation_id),
    ),
    # The error's headline, beside failed rows only (`shown_if`), in the table and `list`.
    Column(
        "error", "ERROR", lambda g, m, now: error_text(g), _by_error,
        min_width=12, fill=True, priority=7,
        list_title="ERROR", list_width=60, shown_if=_is_failed,
        list_text=lambda g, now: error_text(g, None),
    ),
)  # fmt: skip

#: The table's default order, no column's: rows in flight by enqueue time (as the hub
#: works through them), then rows of a status nobody told us about, then finished rows.
#: Its header shows no sort arrow: the rows are not in any one column's order.
QUEUE_ORDER = Column(
    "queue", "", lambda g, m, now: "", _by_queue_order,
    descending_first=True, ascending_key=True, in_table=False,
)  # fmt: skip
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
#: What the table can sort by: a column, or the queue order.
SORT_BY_NAME: dict[str, Column] = {**COLUMN_BY_NAME, QUEUE_ORDER.name: QUEUE_ORDER}
#: The columns the `list` command can print, in order.
LIST_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.list_title and c.list_text)


def list_columns(rows: Sequence[Generation]) -> tuple[Column, ...]:
    """The columns `list` prints for these rows: a `shown_if` one only when a row passes."""
    return tuple(c for c in LIST_COLUMNS if c.shown_if is None or any(c.shown_if(g) for g in rows))


# -- the History view's columns -------------------------------------------------------------


def _cost_cell(g: Generation, mark: RowMark, now: float) -> str:
    """What the row cost, as the hub says (exact, `format_money`); `—` when not given."""
    if g.invalid_fields and "cost" in bad_fields(g):
        return BAD_VALUE
    return format_money(getattr(g, "cost", None), missing=DASH)


def _user_cell(g: Generation, mark: RowMark, now: float) -> str:
    """Who enqueued it: the username, else the user id; `—` when the row does not say."""
    if g.invalid_fields and {"username", "user_id"} & bad_fields(g):
        return BAD_VALUE
    user = getattr(g, "username", None) or getattr(g, "user_id", None)
    return clean(user, max_len=CELL_MAX) if user else DASH


def _when_cell(g: Generation, mark: RowMark, now: float) -> str:
    """When it was enqueued, local time to the minute (`11-24 14:03`): a past row's
    age would need ticking, its time does not."""
    if g.invalid_fields and "enqueued_at" in bad_fields(g):
        return BAD_VALUE
    return fmt_local(g.enqueued_at)[5:16] if g.enqueued_at is not None else DASH


def _by_cost(now: float, reverse: bool) -> RowKey:
    return lambda g: (missing_last(getattr(g, "cost", None), reverse), g.generation_id)


WHEN = Column(
    "when", "ENQUEUED", _when_cell, _by_age,
    width=11,
)  # fmt: skip
COST = Column(
    "cost", "COST", _cost_cell, _by_cost,
    descending_first=True, width=9, right=True,
)  # fmt: skip
USER = Column(
    "user", "USER", _user_cell, None,
    width=8, min_width=6, max_width=16, priority=1,
)  # fmt: skip
#: The History view's table, newest first (no sort of its own): the queue's columns
#: that still mean something once a row finished (no WAIT, no ETA; the enqueue time,
#: not the age), then COST and USER.
HISTORY_COLUMNS: tuple[Column, ...] = (
    COLUMN_BY_NAME["status"],
    COLUMN_BY_NAME["model"],
    COLUMN_BY_NAME["media"],
    COLUMN_BY_NAME["prompt"],
    WHEN,
    COLUMN_BY_NAME["run"],
    COST,
    USER,
    COLUMN_BY_NAME["target"],
    COLUMN_BY_NAME["id"],
    COLUMN_BY_NAME["error"],
)


_CELL_TEXTS = tuple(c.text for c in COLUMNS)


def row_texts(g: Generation, now: float, mark: RowMark = DEFAULT_MARK) -> list[str]:
    """The plain text of every cell of a row, in `COLUMNS` order."""
    return [text(g, mark, now) for text in _CELL_TEXTS]


#: Optional columns up to this priority (the ETA) may narrow the always-shown fitted
#: columns (MODEL) down to their `width` to get on screen (a 60-column terminal).
SQUEEZE_PRIORITY = 1


def layout(
    width: int,
    fitted: Mapping[str, int],
    pad: int,
    present: Collection[str] = (),
    chosen: Collection[str] | None = None,
    columns: Sequence[Column] = COLUMNS,
) -> tuple[list[str], dict[str, int]]:
    """The columns shown in `width` cells, in order, and their text widths (`pad`: the
    padding of each column). `fitted`: each fitted column's width, clamped to its limits;
    `present`: the columns with a `shown_if` that a row shown passes (the others are
    left out); `chosen`: the columns the user chose to show (None: all of them; the
    others are left out, whatever their priority); `columns`: the set laid out (the
    queue's `COLUMNS`, or `HISTORY_COLUMNS`).

    The always-shown columns first; then the optional ones, lowest priority first, as many
    as fit at their least width (`Column.least_width`): a fixed one takes its width, the
    others share what is left (a fitted one up to its share, the fill columns the rest; a
    fitted one without a fill column takes up to its most). For the ETA
    (`SQUEEZE_PRIORITY`) the always-shown fitted columns narrow down to their `width`.
    Narrower than the always-shown columns: their fitted columns shrink."""
    table = [
        c
        for c in columns
        if c.in_table
        and (c.shown_if is None or c.name in present)
        and (chosen is None or c.name in chosen)
    ]
    always = [c for c in table if c.priority == 0]
    widths = {c.name: fitted[c.name] if c.fitted else c.width for c in always}
    avail = width - sum(widths.values()) - pad * len(always)
    squeezable = [c for c in always if c.fitted]
    spare = sum(max(0, widths[c.name] - c.width) for c in squeezable)
    optional = sorted((c for c in table if c.priority), key=lambda c: c.priority)
    shown: list[Column] = []
    for n in range(len(optional), 0, -1):
        need = sum(c.least_width + pad for c in optional[:n])
        if avail + (spare if optional[n - 1].priority <= SQUEEZE_PRIORITY else 0) >= need:
            shown = optional[:n]
            for c in squeezable:  # (only when it had to)
                cut = min(max(0, need - avail), max(0, widths[c.name] - c.width))
                widths[c.name] -= cut
                avail += cut
            break
    if shown:
        flexible = [c for c in shown if c.fitted or c.fill]
        room = avail - pad * len(shown)
        for c in shown:
            if c not in flexible:
                widths[c.name] = c.width
                room -= c.width
        fills = [c for c in flexible if c.fill]
        share = room // max(1, len(flexible))
        for c in flexible:
            if not c.fill:
                limit = max(c.min_width, share)
                widths[c.name] = min(fitted[c.name], limit) if fills else min(c.max_width, limit)
        left = room - sum(widths[c.name] for c in flexible if not c.fill)
        for i, c in enumerate(fills):
            widths[c.name] = left // len(fills) + (left % len(fills) if i == 0 else 0)
    elif width and avail < 0 and width >= 40:
        # Very narrow: the fitted columns give up what they must.
        for c in always:
            if c.fitted:
                widths[c.name] = max(c.min_width, widths[c.name] + avail)
    return [c.name for c in columns if c.name in widths], widths
