"""The live table of generations: a keyed diff, never a rebuild.

`GenerationsTable.apply_rows(rows, now)` is the whole update path: rows are keyed by
generation_id; new rows are added, only the cells whose text changed are rewritten,
vanished rows are removed in one batch, the order is recomputed only when it can have
changed, and the user's place (selected row by id, its line on screen, sort) is restored.

It is a Line-API widget (a `ScrollView` with `render_line`), not a DataTable: it keeps
each row's Generation and the plain text of its cells, and renders only the lines on
screen, straight into segments, once per change of the row (a line cache keyed by the
row's version). benchmarks/refresh_cost.py measures it against a DataTable rebuilt each
poll; the DataTable subclass it replaces re-rendered every visible cell after any
change, held ~15 GC-tracked objects per row (cells, spans, Row, RowKey), and its
cyclic-GC pauses dominated the stall at 10,000 rows. Every row is one line high and every
column has a fixed width, which is what makes the bookkeeping simple.

Times (age, wait, run) tick without a fetch: `tick(now)` recomputes the time cells of
the rows on screen only (`fmt_coarse` ticks by the second in the first minute, then by
the minute) and repaints only the cells whose text changed, so an idle dashboard writes
a few bytes a second to the terminal. Rows off screen catch up when they are drawn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from queue_tui.api.models import Generation, same_row
from queue_tui.core.columns import CELL_MAX as CELL_MAX
from queue_tui.core.columns import (
    COLUMN_BY_NAME,
    COLUMN_NAMES,
    COLUMNS,
    MARK_GLYPH,
    QUEUE_ORDER,
    SORT_BY_NAME,
    layout,
    missing_last,
    row_texts,
)
from queue_tui.core.dashboard import (  # the row marks the dashboard model makes
    BAD_VALUE,
    DEFAULT_MARK,
    DONE,
    RowMark,
)
from queue_tui.core.timefmt import DASH
from queue_tui.tui.presentation import status_style, theme_status_styles

# The columns are declared once, in `queue_tui.core.columns.COLUMNS`: the table reads
# them for its cells, header, sort, layout and ticking.
_IDX = {name: i for i, name in enumerate(COLUMN_NAMES)}
#: The cells whose text changes as time passes, and those that read the row's mark.
TIME_COLUMNS = tuple(i for i, c in enumerate(COLUMNS) if c.ticks)
MARK_COLUMNS = tuple(i for i, c in enumerate(COLUMNS) if c.reads_mark)
#: The columns sized to their widest cell: (index, column).
FITTED_COLUMNS = tuple((i, c) for i, c in enumerate(COLUMNS) if c.fitted)
#: The columns shown only when a row passes their test (`Column.shown_if`: ERROR).
CONDITIONAL_COLUMNS = tuple(c for c in COLUMNS if c.in_table and c.shown_if is not None)


@dataclass(slots=True)
class ApplyStats:
    """What one `apply_rows` did (for tests and benchmarks)."""

    added: int = 0
    removed: int = 0
    changed_cells: int = 0
    resorted: bool = False


class _RowMessage(Message):
    """A message about one row of a table (`generation_id`; None: no rows)."""

    def __init__(self, table: GenerationsTable, generation_id: str | None) -> None:
        super().__init__()
        self.table = table
        self.generation_id = generation_id

    @property
    def control(self) -> GenerationsTable:
        return self.table


class GenerationsTable(ScrollView, can_focus=True):
    """Rows keyed by generation_id, updated in place; the user's place survives.

    A Line-API table: it keeps each row's Generation and its cell texts (plain strings)
    and renders only the lines on screen, each line once per change (`_line_cache`,
    keyed by the row's version), straight into segments. A poll that changes 500 of
    10,000 rows costs the diff and a few visible lines, not 90,000 cell renderables.
    """

    BINDINGS: ClassVar = [
        Binding("enter", "select_cursor", "Detail"),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("g,home", "scroll_top", "Top", show=False),
        Binding("G,end", "scroll_bottom", "Bottom", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]

    COMPONENT_CLASSES: ClassVar = {
        "table--header",
        "table--cursor",
        "table--hover",
        "table--marked",
        "table--mark",
    }

    DEFAULT_CSS = """
    GenerationsTable {
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        overflow-x: auto;
        scrollbar-size-horizontal: 1;
        & > .table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .table--hover {
            background: $block-hover-background;
        }
        /* A marked row: tinted, and MARK_GLYPH at its left edge. */
        & > .table--marked {
            background: $accent 22%;
        }
        & > .table--mark {
            color: $text-accent;
            text-style: bold;
        }
    }
    """

    class RowHighlighted(_RowMessage):
        """The cursor moved to another row (or the row under it changed)."""

    class SortChanged(Message):
        """The user (or the app) sorted the table: `sort_column`, `sort_reverse`."""

    class RowSelected(_RowMessage):
        """Enter (or a click on the cursor row): open the row's detail."""

    #: The header is one line; every row is one line.
    header_height = 1
    show_header = True
    cell_padding = 1

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clock = clock
        self._gens: dict[str, Generation] = {}
        self._texts: dict[str, list[str]] = {}
        #: Bumped whenever a row's texts, mark or status change (line cache key).
        self._versions: dict[str, int] = {}
        self._version_counter = 0
        #: The time the time cells are computed for (the last apply or tick).
        self._now = clock()
        #: Sort keys per row for the current sort, when they do not depend on `now`.
        self._keys: dict[str, Any] = {}
        #: Rows whose mark is not DEFAULT_MARK.
        self._marks: dict[str, RowMark] = {}
        #: Seconds until done per generation_id (sorting by ETA); set by the app.
        self.etas: Mapping[str, float] = {}
        #: Generation ids in display order, and each id's position in it.
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._visible: list[str] = [c.name for c in COLUMNS if c.shown_by_default]
        #: The columns the user chose to show (None: every column the width allows).
        self._chosen: frozenset[str] | None = None
        self._widths: dict[str, int] = {c.name: c.width for c in COLUMNS}
        #: Visible column name -> (x, width including padding).
        self._col_x: dict[str, tuple[int, int]] = {}
        self._total_width = 0
        #: The fitted columns' widest cell so far (their `width` until a row arrives).
        self._fit_widths: dict[str, int] = {c.name: c.width for _, c in FITTED_COLUMNS}
        self._layout_key: tuple[int, ...] = (-1,)
        #: Rows passing each conditional column's test (the column shows while any do).
        self._passing: dict[str, int] = {c.name: 0 for c in CONDITIONAL_COLUMNS}
        self._status_styles: dict[str, Style] = {}
        #: Bumped when anything every line depends on changes (layout, theme, sort).
        self._epoch = 0
        self._line_cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(LINE_CACHE_SIZE)
        self._pass_styles: tuple[Style, Style, Style, Style, Style, Style] | None = None
        self._restoring = False
        self._quiet_scroll = False
        self._cursor = 0
        self._hover: int | None = None
        #: The row the user chose (generation_id); kept while it is hidden or gone.
        self.selected_key: str | None = None
        #: Until the user moves the cursor, the selection is whatever row is under it.
        self._auto_selected = True
        self.sort_column = DEFAULT_SORT
        self.sort_reverse = SORT_BY_NAME[DEFAULT_SORT].descending_first
        self.last_apply = ApplyStats()

    # -- public API ------------------------------------------------------------------

    @property
    def generations(self) -> dict[str, Generation]:
        """The generations shown, by id."""
        return self._gens

    @property
    def ordered_ids(self) -> list[str]:
        """Generation ids in display order."""
        return list(self._order)

    @property
    def now(self) -> float:
        """The time the time cells show (the last apply or tick)."""
        return self._now

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_row(self) -> int:
        """The cursor's row index in display order."""
        return self._cursor

    @property
    def cursor_id(self) -> str | None:
        """The id of the row under the cursor."""
        if 0 <= self._cursor < len(self._order):
            return self._order[self._cursor]
        return None

    @property
    def selected_generation(self) -> Generation | None:
        key = self.cursor_id
        return self._gens.get(key) if key is not None else None

    @property
    def visible_columns(self) -> list[str]:
        return list(self._visible)

    @property
    def column_widths(self) -> dict[str, int]:
        """Visible column -> its text width (without the padding)."""
        return {name: self._widths[name] for name in self._visible}

    def held_ids(self) -> set[str]:
        """Every id the table keeps per-row state for (bounded-state checks: tests, soaks)."""
        return {*self._gens, *self._texts, *self._versions, *self._keys, *self._marks}

    def mark_of(self, generation_id: str) -> RowMark:
        """How a row is marked (pending, finished, watched, its ETA, marked by the user)."""
        return self._marks.get(generation_id, DEFAULT_MARK)

    def cell_text(self, generation_id: str, column: str) -> str:
        """The plain text of a cell, hidden columns included."""
        index = _IDX[column]
        if index in TIME_COLUMNS:
            self._sync_times(generation_id, self._now)
        return self._texts[generation_id][index]

    def cell_style(self, generation_id: str, column: str) -> Style:
        """The style of a cell as drawn outside the cursor (without the base style)."""
        gen = self._gens[generation_id]
        index = _IDX[column]
        dim = self.mark_of(generation_id).state == DONE
        return self._cell_style(index, self._texts[generation_id][index], gen, dim)

    def select_id(self, generation_id: str) -> bool:
        """Move the cursor to a row (and make it the user's selection)."""
        index = self._index.get(generation_id)
        if index is None:
            return False
        self.selected_key = generation_id
        self.move_cursor(row=index)
        return True

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Move the cursor (as the user would): it becomes the selection."""
        self._set_cursor(row, user=True, scroll=scroll)

    def apply_rows(
        self,
        rows: Iterable[Generation],
        now: float | None = None,
        marks: Mapping[str, RowMark] | None = None,
    ) -> ApplyStats:
        """Make the table show exactly `rows` (the keyed diff), keeping the user's place.

        `marks` holds the rows whose `RowMark` is not `DEFAULT_MARK` (pending, finished,
        watched, with an ETA); a row whose Generation and mark are unchanged costs two
        dict lookups.
        """
        now = self.clock() if now is None else now
        self._now = now
        marks = marks if marks is not None else {}
        old_marks = self._marks
        stats = ApplyStats()
        incoming = {gen.generation_id: gen for gen in rows}

        place = self._capture_place()
        old_order, old_top = self._order, self.scroll_offset.y
        gens, texts, versions = self._gens, self._texts, self._versions
        selected_finishes = self._selected_finishes(incoming, marks)

        removed = list(gens.keys() - incoming.keys()) if len(gens) else []
        if removed:
            self._remove_batch(removed)
            stats.removed = len(removed)

        added: list[str] = []
        changed: list[tuple[str, int]] = []
        sort_spec = SORT_BY_NAME[self.sort_column]
        # Keys are kept per row only when they depend on the row alone.
        static_sort = sort_spec.sort_static and sort_spec.sort is not None
        sort_key = sort_spec.sort(now, self.sort_reverse) if sort_spec.sort else None
        keys = self._keys
        keys_moved = False
        gens_get, marks_get, old_marks_get = gens.get, marks.get, old_marks.get
        for gid, gen in incoming.items():
            old = gens_get(gid)
            mark = marks_get(gid, DEFAULT_MARK)
            if old is None:
                cells = row_texts(gen, now, mark)
                gens[gid] = gen
                texts[gid] = cells
                versions[gid] = 0
                if mark is not DEFAULT_MARK:
                    old_marks[gid] = mark
                if static_sort:
                    keys[gid] = sort_key(gen)
                added.append(gid)
                self._note_widths(cells)
                if CONDITIONAL_COLUMNS:
                    self._count_passing(gen, 1)
                continue
            old_mark = old_marks_get(gid, DEFAULT_MARK)
            # Unchanged rows usually arrive as the same object (`keep_unchanged`).
            same_gen = old is gen or same_row(old, gen)
            if same_gen and (old_mark is mark or old_mark == mark):
                # Keep the newest object: the tracker and the app hold this page's rows,
                # so keeping the first one seen would keep two copies of every row alive.
                gens[gid] = gen
                continue
            gens[gid] = gen
            if CONDITIONAL_COLUMNS and not same_gen:
                self._count_passing(old, -1)
                self._count_passing(gen, 1)
            if static_sort and not same_gen:
                key = sort_key(gen)
                if keys.get(gid) != key:
                    keys[gid] = key
                    keys_moved = True
            if mark is DEFAULT_MARK:
                old_marks.pop(gid, None)
            else:
                old_marks[gid] = mark
            restyle_all = (mark.state == DONE) != (old_mark.state == DONE) or (
                mark.marked != old_mark.marked
            )
            previous = texts[gid]
            if same_gen:
                # Only the mark changed (an ETA, pending, finished, watched).
                cells = previous.copy()
                for i in MARK_COLUMNS:
                    cells[i] = COLUMNS[i].text(gen, mark, now)
            else:
                cells = row_texts(gen, now, mark)
            row_changed = False
            for i, text in enumerate(cells):
                # The status cell also restyles on a status change with the same label.
                restyle = restyle_all or (i == _STATUS and old.status != gen.status)
                if text != previous[i] or restyle:
                    changed.append((gid, i))
                    row_changed = True
            if row_changed:
                self._bump(gid)
            texts[gid] = cells
            self._note_widths(cells)
        stats.added = len(added)
        stats.changed_cells = len(changed)

        order_changed = bool(removed)
        # With a sort key that depends only on the row, changed cells need a re-sort only
        # when some row's key changed.
        needs_sort = added or (keys_moved if static_sort else changed)
        if needs_sort or not static_sort:
            new_order = self._sorted_ids(now, added)
            if new_order != self._order:
                self._order = new_order
                order_changed = True
                stats.resorted = True
        elif removed:
            gone = set(removed)
            self._order = [gid for gid in self._order if gid not in gone]

        if order_changed or added:
            self._index = {gid: i for i, gid in enumerate(self._order)}
        if added or removed:
            self._sync_virtual_size()
        if self._widths_dirty():
            self._apply_layout(force=True)

        # A scroll that keeps the user's row on its line repaints only the lines that
        # now show another row (`_refresh_moved`), not the whole table.
        self._quiet_scroll = True
        try:
            self._restore_place(place, selected_finishes)
        finally:
            self._quiet_scroll = False
        changed.extend(self._tick(now))
        if order_changed or added or removed:
            self._refresh_moved(old_order, old_top, changed)
        else:
            self._refresh_cells(changed)
        self.last_apply = stats
        return stats

    def tick(self, now: float | None = None) -> int:
        """Rewrite the time cells whose text changed since `now` moved; returns how many."""
        now = self.clock() if now is None else now
        changed = self._tick(now)
        self._refresh_cells(changed)
        return len(changed)

    def set_sort(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column, or by `QUEUE_ORDER.name` (`reverse=None`: its natural
        direction)."""
        if column not in SORT_BY_NAME:
            raise ValueError(f"no column {column!r}")
        if reverse is None:
            reverse = SORT_BY_NAME[column].descending_first
        self.sort_column, self.sort_reverse = column, reverse
        self._resort()
        self.post_message(self.SortChanged())

    @property
    def chosen_columns(self) -> frozenset[str] | None:
        """The columns the user chose to show (None: no choice, all may show)."""
        return self._chosen

    def choose_columns(self, names: Collection[str] | None) -> None:
        """Show only these columns (as the width allows); None: every column."""
        self._chosen = None if names is None else frozenset(names)
        if self.is_mounted:
            self._apply_layout(force=True)

    def action_cycle_sort(self) -> None:
        """The next visible column; after the last, back to the queue order."""
        names = [QUEUE_ORDER.name, *(n for n in COLUMN_NAMES if n in self._visible)]
        try:
            position = names.index(self.sort_column)
        except ValueError:
            position = 0
        self.set_sort(names[(position + 1) % len(names)])

    def action_reverse_sort(self) -> None:
        self.set_sort(self.sort_column, not self.sort_reverse)

    def restyle(self) -> None:
        """Recolour the status cells (after a theme change)."""
        self._status_styles = self._compute_status_styles()
        self._epoch += 1
        self.refresh()

    # -- cursor and keys ---------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._set_cursor(self._cursor - 1, user=True)

    def action_cursor_down(self) -> None:
        self._set_cursor(self._cursor + 1, user=True)

    def action_page_up(self) -> None:
        page = self._viewport_rows()
        self.scroll_to(y=max(0, self.scroll_offset.y - page), animate=False)
        self._set_cursor(self._cursor - page, user=True)

    def action_page_down(self) -> None:
        page = self._viewport_rows()
        self.scroll_to(y=self.scroll_offset.y + page, animate=False)
        self._set_cursor(self._cursor + page, user=True)

    def action_scroll_top(self) -> None:
        self._set_cursor(0, user=True)

    def action_scroll_bottom(self) -> None:
        self._set_cursor(len(self._order) - 1, user=True)

    def action_select_cursor(self) -> None:
        gid = self.cursor_id
        if gid is not None:
            self.post_message(self.RowSelected(self, gid))

    def _set_cursor(self, row: int, *, user: bool, scroll: bool = True) -> None:
        """Move the cursor to `row` (clamped). `user`: the row becomes the selection."""
        row = min(max(row, 0), max(len(self._order) - 1, 0))
        old = self._cursor
        self._cursor = row
        if user and row < len(self._order):
            self.selected_key = self._order[row]
            self._auto_selected = False
        if self._hover is not None and user:
            self._set_hover(None)
        if row != old:
            self._refresh_rows((old, row))
        if scroll:
            self._scroll_row_into_view(row)
        if row != old or user:
            self.post_message(self.RowHighlighted(self, self.cursor_id))

    def _scroll_row_into_view(self, row: int) -> None:
        top = self.scroll_offset.y
        rows = self._viewport_rows()
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + rows:
            self.scroll_to(y=row - rows + 1, animate=False)

    # -- mouse -------------------------------------------------------------------------

    def _line_at(self, offset: Offset | None) -> tuple[int, int] | None:
        """(row index or -1 for the header, x in the table) under a content offset."""
        if offset is None:
            return None
        x = offset.x + self.scroll_offset.x
        if offset.y < self.header_height:
            return -1, x
        row = self.scroll_offset.y + offset.y - self.header_height
        if 0 <= row < len(self._order):
            return row, x
        return None

    def _column_at(self, x: int) -> str | None:
        for name, (left, width) in self._col_x.items():
            if left <= x < left + width:
                return name
        return None

    def on_click(self, event: events.Click) -> None:
        hit = self._line_at(event.get_content_offset(self))
        if hit is None:
            return
        row, x = hit
        event.stop()
        if row == -1:
            column = self._column_at(x)
            if column is not None:
                if column == self.sort_column:
                    self.set_sort(column, not self.sort_reverse)
                else:
                    self.set_sort(column)
            return
        if row == self._cursor and self.cursor_id is not None:
            self.selected_key = self.cursor_id
            self._auto_selected = False
            self.action_select_cursor()
            return
        self._set_cursor(row, user=True)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hit = self._line_at(event.get_content_offset(self))
        self._set_hover(hit[0] if hit is not None and hit[0] >= 0 else None)

    def on_leave(self, _: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, row: int | None) -> None:
        if row == self._hover:
            return
        old, self._hover = self._hover, row
        self._refresh_rows(r for r in (old, row) if r is not None)

    # -- rendering ---------------------------------------------------------------------

    def _styles(self) -> tuple[Style, Style, Style, Style, Style, Style]:
        """The base, header, cursor, hover, marked row and mark glyph styles, as the CSS
        has them now."""
        return (
            self.rich_style,
            self.get_component_rich_style("table--header"),
            self.get_component_rich_style("table--cursor"),
            self.get_component_rich_style("table--hover"),
            self.get_component_rich_style("table--marked"),
            self.get_component_rich_style("table--mark"),
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are read once per paint, not once per line.
        self._pass_styles = self._styles()
        try:
            return super().render_lines(crop)
        finally:
            self._pass_styles = None

    def render_line(self, y: int) -> Strip:
        base, header, cursor, hover, marked, glyph = self._pass_styles or self._styles()
        width = self.scrollable_content_region.width or self.size.width
        # Rounded, as Textual rounds the scroll to decide what to repaint: `int()` drew
        # an animation frame at x=0.9999 as 0, then x=1 repainted nothing, and the next
        # partial repaints put rows one column off the header.
        scroll_x = self.scroll_offset.x
        if y < self.header_height:
            key: tuple[Any, ...] = ("header", self._epoch, width, scroll_x, base, header)
            strip = self._line_cache.get(key)
            if strip is None:
                strip = self._render_header(base + header).crop_extend(
                    scroll_x, scroll_x + width, base
                )
                self._line_cache[key] = strip
            return strip
        row = self.scroll_offset.y + y - self.header_height
        if not 0 <= row < len(self._order):
            return Strip.blank(width, base)
        gid = self._order[row]
        self._sync_times(gid, self._now)
        is_cursor = row == self._cursor
        is_hover = row == self._hover and not is_cursor
        extra = cursor if is_cursor else hover if is_hover else None
        key = (gid, self._versions.get(gid, 0), self._epoch, width, scroll_x, base, extra)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._render_row(gid, base, extra, (marked, glyph)).crop_extend(
                scroll_x, scroll_x + width, base
            )
            self._line_cache[key] = strip
        return strip

    def _render_header(self, style: Style) -> Strip:
        # In the queue order no column has an arrow: the rows are in no column's order.
        arrow = "▼" if self.sort_reverse else "▲"
        segments: list[Segment] = []
        for name in self._visible:
            spec = COLUMN_BY_NAME[name]
            width = self._widths[name]
            if name != self.sort_column:
                segments.append(Segment(_pad(spec.title, width, spec.right), style))
            else:
                text = _sorted_title(spec.title, arrow, width, spec.right)
                segments.append(Segment(text, style + _BOLD))
        return Strip(segments, self._total_width).simplify()

    def _render_row(
        self, gid: str, base: Style, extra: Style | None, marked: tuple[Style, Style]
    ) -> Strip:
        gen = self._gens[gid]
        cells = self._texts[gid]
        mark = self.mark_of(gid)
        dim = mark.state == DONE
        if mark.marked:
            base += marked[0]
        segments: list[Segment] = []
        widths = self._widths
        for name in self._visible:
            index = _IDX[name]
            text = cells[index]
            style = base + self._cell_style(index, text, gen, dim)
            if extra is not None:
                style += extra
            cell = _pad(text, widths[name], COLUMN_BY_NAME[name].right)
            if mark.marked and not segments:
                # The glyph takes the first cell's left padding: no column moves.
                segments.append(Segment(MARK_GLYPH, style + marked[1]))
                cell = cell[1:]
            segments.append(Segment(cell, style))
        return Strip(segments, self._total_width).simplify()

    def _cell_style(self, index: int, text: str, gen: Generation, dim: bool) -> Style:
        if text == BAD_VALUE:
            style = status_style(self._status_styles, "unknown") + _BOLD
        elif index == _STATUS:
            style = status_style(self._status_styles, gen.status)
        elif index == _ID or text == DASH:
            style = _DIM
        else:
            style = _PLAIN
        return style + _DIM if dim else style

    # -- internals -------------------------------------------------------------------

    def _bump(self, gid: str) -> None:
        self._version_counter += 1
        self._versions[gid] = self._version_counter

    def _compute_status_styles(self) -> dict[str, Style]:
        try:
            variables = self.app.get_css_variables()
            dark = self.app.current_theme.dark
        except Exception:
            return {}
        return theme_status_styles(variables, dark=dark)

    def _note_widths(self, cells: Sequence[str]) -> None:
        fit = self._fit_widths
        for index, column in FITTED_COLUMNS:
            size = cell_len(cells[index])
            if size > fit[column.name]:
                fit[column.name] = min(size, column.max_width)

    def _layout_inputs(self) -> tuple[int, ...]:
        width = self.scrollable_content_region.width or self.size.width
        fit = self._fit_widths
        return (
            width,
            *(max(c.min_width, min(fit[c.name], c.max_width)) for _, c in FITTED_COLUMNS),
            *(self._passing[c.name] > 0 for c in CONDITIONAL_COLUMNS),
        )

    def _count_passing(self, gen: Generation, delta: int) -> None:
        for column in CONDITIONAL_COLUMNS:
            if column.shown_if(gen):  # type: ignore[misc]
                self._passing[column.name] += delta

    def _widths_dirty(self) -> bool:
        return self.is_mounted and self._layout_inputs() != self._layout_key

    def _sorted_ids(self, now: float, added: Sequence[str] = ()) -> list[str]:
        gens = self._gens
        # The previous order first: timsort finds it already sorted in long runs.
        ids = [gid for gid in self._order if gid in gens]
        ids.extend(added)
        if len(ids) != len(gens):
            ids = list(gens)
        reverse = self.sort_reverse
        spec = SORT_BY_NAME[self.sort_column]
        if spec.sort is None:
            # Sorted by the seconds to done the app gives the table (the ETA).
            etas = self.etas
            return sorted(
                ids, key=lambda gid: (missing_last(etas.get(gid), reverse), gid), reverse=reverse
            )
        key = spec.sort(now, reverse)
        if spec.ascending_key:
            reverse = not reverse
        if spec.sort_static:
            keys = self._keys
            if len(keys) != len(gens):
                for gid in ids:
                    if gid not in keys:
                        keys[gid] = key(gens[gid])
            return sorted(ids, key=keys.__getitem__, reverse=reverse)
        return sorted(ids, key=lambda gid: key(gens[gid]), reverse=reverse)

    def _resort(self) -> None:
        self._keys = {}
        place = self._capture_place()
        self._order = self._sorted_ids(self.clock())
        self._index = {gid: i for i, gid in enumerate(self._order)}
        self._epoch += 1
        self._restore_place(place)
        self.refresh()

    def _remove_batch(self, gids: Sequence[str]) -> None:
        """Remove rows in one pass."""
        for gid in gids:
            self._count_passing(self._gens[gid], -1)
            del self._gens[gid]
            del self._texts[gid]
            self._versions.pop(gid, None)
            self._keys.pop(gid, None)
            self._marks.pop(gid, None)

    def _sync_virtual_size(self) -> None:
        size = Size(self._total_width, len(self._order) + self.header_height)
        if size != self.virtual_size:
            # A layout pass (scrollbars), not a repaint: the lines that now show another
            # row are repainted by `_refresh_moved`; the reactive would repaint them all.
            self.set_reactive(GenerationsTable.virtual_size, size)
            self.refresh(repaint=False, layout=True)

    def _viewport_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - self.header_height)

    def _capture_place(self) -> tuple[str | None, str | None, int, int, list[str]] | None:
        if not self._order:
            return (self.selected_key, None, 0, 0, []) if self.selected_key else None
        index = min(max(self._cursor, 0), len(self._order) - 1)
        offset = index - self.scroll_offset.y
        return (self.selected_key, self._order[index], index, offset, self._order)

    def _selected_finishes(
        self, incoming: Mapping[str, Generation], marks: Mapping[str, RowMark]
    ) -> bool:
        """The row the user chose (and the cursor is on) finishes in this update."""
        gid = self.selected_key
        if gid is None or self._auto_selected or gid != self.cursor_id:
            return False
        old, new = self._gens.get(gid), incoming.get(gid)
        return (
            old is not None
            and new is not None
            and not _finished(old, self._marks.get(gid, DEFAULT_MARK))
            and _finished(new, marks.get(gid, DEFAULT_MARK))
        )

    def _next_in_flight(self, old_order: Sequence[str], old_index: int) -> str | None:
        """The nearest row in flight below `old_index` in the old order, else above."""
        index, gens, marks = self._index, self._gens, self._marks
        below = range(old_index + 1, len(old_order))
        above = range(min(old_index, len(old_order)) - 1, -1, -1)
        for i in (*below, *above):
            gid = old_order[i]
            if gid in index and not _finished(gens[gid], marks.get(gid, DEFAULT_MARK)):
                return gid
        return None

    def _restore_place(
        self,
        place: tuple[str | None, str | None, int, int, list[str]] | None,
        selected_finishes: bool = False,
    ) -> None:
        if not self._order:
            self._cursor = 0
            return
        if place is None:
            # First rows: the top row is the selection until the user moves.
            if self.selected_key is None:
                self.selected_key = self._order[0]
            self._cursor = min(self._cursor, len(self._order) - 1)
            return
        selected, cursor_gid, old_index, offset, old_order = place
        index = self._index
        target: str | None = None
        if self._auto_selected:
            # Nobody chose a row yet: the cursor keeps its line (the top of the queue),
            # it does not follow the row that happened to be there as it finishes.
            selected = None
            target = self._order[min(old_index, len(self._order) - 1)]
        elif selected is not None and selected in index:
            target = selected
            if selected_finishes and index[selected] != old_index:
                # The user's row finished and went to the finished rows below: following
                # it would jump the view there (and cancelling rows one after another
                # would be a chase). The selection stays on its line, on the next row in
                # flight, and the view does not scroll.
                in_flight = self._next_in_flight(old_order, old_index)
                if in_flight is not None:
                    selected, target = None, in_flight
                    line = index[in_flight] - (old_index - offset)  # the same scroll
                    offset = min(max(line, 0), self._viewport_rows() - 1)
        elif cursor_gid is not None and cursor_gid in index:
            target = cursor_gid
        else:
            # The row under the cursor went away: take its nearest surviving neighbour
            # below, else above, in the old order.
            for i in range(old_index + 1, len(old_order)):
                if old_order[i] in index:
                    target = old_order[i]
                    break
            else:
                for i in range(min(old_index, len(old_order)) - 1, -1, -1):
                    if old_order[i] in index:
                        target = old_order[i]
                        break
        new_index = index.get(target) if target is not None else None
        if new_index is None:
            new_index = min(old_index, len(self._order) - 1)
        if selected is None:
            self.selected_key = self._order[new_index]
        max_scroll = max(0, len(self._order) - self._viewport_rows())
        new_scroll = min(max(new_index - offset, 0), max_scroll)
        self._restoring = True
        try:
            if self.scroll_offset.y != new_scroll:
                self.scroll_to(y=new_scroll, animate=False, force=True)
            if self._cursor != new_index or cursor_gid != self._order[new_index]:
                old = self._cursor
                self._cursor = new_index
                if old != new_index:
                    self._refresh_rows((old, new_index))
                self.post_message(self.RowHighlighted(self, self._order[new_index]))
        finally:
            self._restoring = False

    def _tick(self, now: float) -> list[tuple[str, int]]:
        """Recompute the time cells of the rows on screen; returns the cells that
        changed. Rows off screen catch up when they are drawn (`render_line`)."""
        self._now = now
        if not self.is_mounted:
            return []
        top = self.scroll_offset.y
        changed: list[tuple[str, int]] = []
        for gid in self._order[top : top + self._viewport_rows()]:
            changed.extend(self._sync_times(gid, now))
        return changed

    def _sync_times(self, gid: str, now: float) -> list[tuple[str, int]]:
        """Bring a row's age, wait and run texts to `now`; returns the changed cells."""
        cells = self._texts[gid]
        gen, mark = self._gens[gid], self._marks.get(gid, DEFAULT_MARK)
        changed: list[tuple[str, int]] = []
        for index in TIME_COLUMNS:
            text = COLUMNS[index].text(gen, mark, now)
            if cells[index] != text:
                cells[index] = text
                changed.append((gid, index))
        if changed:
            self._bump(gid)
        return changed

    def _refresh_rows(self, rows: Iterable[int]) -> None:
        """Repaint whole lines of rows (cursor and hover moves)."""
        if not self.is_mounted:
            return
        top = self.scroll_offset.y
        bottom = top + self._viewport_rows()
        width = self.size.width
        regions = [
            Region(0, self.header_height + row - top, width, 1)
            for row in set(rows)
            if top <= row < bottom
        ]
        if regions:
            self.refresh(*regions)

    def _refresh_cells(self, cells: Sequence[tuple[str, int]]) -> None:
        """Repaint only the visible cells that changed: one region per cell, however
        many (Textual merges them per line and, with `textual_patches`, writes only their
        columns: a ticking RUN cell is ~55 bytes over ssh, a whole line ~250)."""
        if not cells or not self.is_mounted:
            return
        top = self.scroll_offset.y
        bottom = top + self._viewport_rows()
        scroll_x = self.scroll_offset.x
        header = self.header_height
        index, col_x = self._index, self._col_x
        regions: set[Region] = set()
        for gid, column in cells:
            row = index.get(gid)
            if row is None or not top <= row < bottom:
                continue
            span = col_x.get(COLUMN_NAMES[column])
            if span is not None:
                regions.add(Region(span[0] - scroll_x, header + row - top, span[1], 1))
        if regions:
            self.refresh(*regions)

    def _refresh_moved(
        self, old_order: Sequence[str], old_top: int, cells: Sequence[tuple[str, int]]
    ) -> None:
        """After rows moved, were added or removed: repaint only the visible lines that
        now show another row (a row moving from line 9 to line 2 repaints lines 2-9),
        plus the changed cells elsewhere. `old_top` is the scroll offset before: a line
        compares the row it showed then with the row it shows now."""
        if not self.is_mounted:
            return
        top = self.scroll_offset.y
        new_order = self._order
        n_old, n_new = len(old_order), len(new_order)
        header = self.header_height
        width = self.size.width
        moved: set[int] = set()
        regions: list[Region] = []
        for line in range(self._viewport_rows()):
            y, old_y = top + line, old_top + line
            a = old_order[old_y] if old_y < n_old else None
            b = new_order[y] if y < n_new else None
            if a != b:
                moved.add(y)
                regions.append(Region(0, header + line, width, 1))
        if regions:
            self.refresh(*regions)
        index = self._index
        self._refresh_cells([c for c in cells if index.get(c[0]) not in moved])

    def _apply_layout(self, *, force: bool = False) -> None:
        """Choose the visible columns and their widths for the table's width."""
        inputs = self._layout_inputs()
        if not force and inputs == self._layout_key:
            return
        self._layout_key = inputs
        width = inputs[0]
        fitted = inputs[1 : 1 + len(FITTED_COLUMNS)]
        present = [c.name for c in CONDITIONAL_COLUMNS if self._passing[c.name]]
        pad = 2 * self.cell_padding
        names = [c.name for _, c in FITTED_COLUMNS]
        self._visible, widths = layout(
            width, dict(zip(names, fitted, strict=True)), pad, present, self._chosen
        )
        self._widths.update(widths)
        x = 0
        self._col_x = {}
        for name in self._visible:
            self._col_x[name] = (x, self._widths[name] + pad)
            x += self._widths[name] + pad
        self._total_width = x
        self._epoch += 1
        self._sync_virtual_size()
        self.refresh()

    # -- Textual hooks ---------------------------------------------------------------

    def on_mount(self) -> None:
        self._status_styles = self._compute_status_styles()
        self._apply_layout(force=True)

    def on_resize(self) -> None:
        self._apply_layout()
        if self._order:
            self._scroll_row_into_view(self._cursor)

    def watch_show_vertical_scrollbar(self) -> None:
        # The scrollbar takes a column: fit the columns to what is left (at once, so the
        # next poll does not find the layout stale and repaint everything).
        if self.is_mounted:
            self._apply_layout()

    def on_focus(self) -> None:
        self._refresh_rows((self._cursor,))

    def on_blur(self) -> None:
        self._refresh_rows((self._cursor,))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if self._quiet_scroll:
            # apply_rows repaints the lines that changed itself (`_refresh_moved`).
            if self.show_vertical_scrollbar:
                self.vertical_scrollbar.position = new_value
            return
        super().watch_scroll_y(old_value, new_value)


_BOLD = Style(bold=True)
_DIM = Style(dim=True)
_PLAIN = Style()
_STATUS, _ID = _IDX["status"], _IDX["id"]
#: Rendered lines kept (a few screens: scrolling back and forth reuses them; each Strip
#: holds ~10 GC-tracked objects, so not more).
LINE_CACHE_SIZE = 256
#: Queue order: the oldest first, as the hub works through it, then the finished rows
#: that linger. A row keeps its line when it starts, and new rows arrive below the
#: rows in flight.
DEFAULT_SORT = QUEUE_ORDER.name


def _finished(gen: Generation, mark: RowMark) -> bool:
    return mark.state == DONE or gen.is_terminal


def _sorted_title(title: str, arrow: str, width: int, right: bool) -> str:
    """`AGE ▼` in a column of `width`: the arrow is never cut off. Too long, it loses the
    space (`ETA▼`), then takes the cell's right padding (`MEDIA▼`: the next column's
    padding keeps the gap)."""
    for label in (f"{title} {arrow}", f"{title}{arrow}"):
        if cell_len(label) <= width:
            return _pad(label, width, right)
    label = f"{title[: max(0, width)]}{arrow}"
    return " " + label.rjust(width + 1) if right else f" {label.ljust(width + 1)}"


def _pad(text: str, width: int, right: bool) -> str:
    """`text` fitted to `width` cells (an ellipsis when cut), with one space each side."""
    if text.isascii():
        size = len(text)
        if size > width:
            text = text[: max(0, width - 1)] + "…" if width > 0 else ""
            size = width
    else:
        size = cell_len(text)
        if size > width:
            text = set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
            size = width
    gap = " " * (width - size)
    return f" {gap}{text} " if right else f" {text}{gap} "
