"""The DataTable-based GenerationsTable the dashboard used until the Line-API table
replaced it (queue_tui/tui/widgets/generations_table.py at commit 02f0553), so
refresh_cost.py can measure both side by side in one run. Benchmark-only: nothing in
queue_tui imports it.

The class and the helpers the live module no longer has (the per-row due times, the
shared cell cache, the sort keys of the status-first default) are as they were at
02f0553; everything else it used then is the live module's, unchanged since.
"""
# ruff: noqa
# fmt: off

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.widgets import DataTable
from textual.widgets._data_table import Column, ColumnKey, Row, RowKey

from queue_tui.api.models import Generation
from queue_tui.api.models import same_row as _same_row
from queue_tui.core.columns import COLUMN_BY_NAME as SPEC_BY_NAME
from queue_tui.core.columns import COLUMN_NAMES, row_texts, status_rank, time_texts
from queue_tui.core.columns import COLUMNS as COLUMN_SPECS
from queue_tui.core.columns import missing_last as _missing_last
from queue_tui.core.dashboard import DEFAULT_MARK, DONE, RowMark
from queue_tui.core.timefmt import DASH
from queue_tui.tui.presentation import status_style, theme_status_styles
from queue_tui.tui.widgets.generations_table import _IDX, TIME_COLUMNS, ApplyStats

_ETA = _IDX["eta"]
MODEL_MIN, MODEL_MAX = SPEC_BY_NAME["model"].min_width, SPEC_BY_NAME["model"].max_width
TARGET_MIN, TARGET_MAX = SPEC_BY_NAME["target"].min_width, SPEC_BY_NAME["target"].max_width
PROMPT_MIN = SPEC_BY_NAME["prompt"].min_width

#: Columns whose few distinct values share cell objects (status, model, media, times).
SHARED_CELL_COLUMNS = frozenset(
    _IDX[name] for name in ("status", "model", "media", "age", "wait", "run", "eta")
)
CELL_CACHE_MAX = 8192


def next_text_change(anchor: float, now: float) -> float:
    """When `fmt_coarse(now - anchor)` will next show a different text.

    Seconds tick every second during the first minute, then the text only changes on
    whole minutes (`3m`, `1h04m`) and, past a day, on whole hours (`2d03h`).
    """
    seconds = int(max(0.0, now - anchor))
    if seconds < 60:
        boundary = seconds + 1
    elif seconds < 86400:
        boundary = (seconds // 60 + 1) * 60
    else:
        boundary = (seconds // 3600 + 1) * 3600
    return anchor + boundary


def _live_run(g: Generation) -> bool:
    return g.started_at is not None and g.completed_at is None and not g.is_terminal


def next_due(g: Generation, now: float) -> float:
    """The earliest time any of the row's time cells shows a new text (inf: never)."""
    due = math.inf
    if g.enqueued_at is not None:
        due = next_text_change(g.enqueued_at, now)  # age always grows
    if g.started_at is not None and _live_run(g):
        due = min(due, next_text_change(g.started_at, now))
    return due


#: Sort columns whose key depends only on the row, not on `now` or the ETAs.
STATIC_SORT_COLUMNS = frozenset({"status", "model", "media", "prompt", "target", "id"})


def sort_key_for(column: str, now: float, reverse: bool) -> Callable[[Generation], Any]:
    """A key function over Generations for sorting by `column`."""

    def enq(g: Generation) -> float:
        return g.enqueued_at if g.enqueued_at is not None else math.inf

    if column == "status":
        return lambda g: (status_rank(g.status), g.status, enq(g), g.generation_id)
    if column == "model":
        return lambda g: (g.model_name.casefold(), enq(g), g.generation_id)
    if column == "media":
        return lambda g: (g.media_type.casefold(), enq(g), g.generation_id)
    if column == "prompt":
        return lambda g: (
            _missing_last(g.prompt.casefold() if g.prompt else None, reverse),
            g.generation_id,
        )
    if column == "target":
        return lambda g: (_missing_last(g.target.casefold() or None, reverse), g.generation_id)
    if column == "age":
        return lambda g: (_missing_last(g.age_seconds(now), reverse), g.generation_id)
    if column == "wait":
        return lambda g: (_missing_last(g.wait_seconds(now), reverse), g.generation_id)
    if column == "run":
        return lambda g: (_missing_last(g.run_seconds(now), reverse), g.generation_id)
    return lambda g: g.generation_id


class GenerationsTable(DataTable):
    """Rows keyed by generation_id, updated in place; the user's place survives."""

    BINDINGS: ClassVar = [
        Binding("enter", "select_cursor", "Detail"),
        Binding("g,home", "scroll_top", "Top", show=False),
        Binding("G,end", "scroll_bottom", "Bottom", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    DEFAULT_CSS = """
    GenerationsTable {
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            cursor_type="row",
            show_row_labels=False,
            zebra_stripes=False,
            cell_padding=1,
            name=name,
            id=id,
            classes=classes,
        )
        self.clock = clock
        self._gens: dict[str, Generation] = {}
        self._texts: dict[str, list[str]] = {}
        self._due: dict[str, float] = {}
        #: (due, generation_id), lazily pruned: entries whose due no longer matches
        #: `_due` are skipped, so the 1 s tick looks only at rows whose text changes.
        self._due_heap: list[tuple[float, str]] = []
        #: Rows whose mark is not DEFAULT_MARK.
        self._marks: dict[str, RowMark] = {}
        #: Seconds until done per generation_id (sorting by ETA); set by the app.
        self.etas: Mapping[str, float] = {}
        self._row_keys: dict[str, RowKey] = {}
        self._order: list[RowKey] = []
        self._ckeys: dict[str, ColumnKey] = {name: ColumnKey(name) for name in COLUMN_NAMES}
        self._column_objs: dict[str, Column] = {
            spec.name: Column(self._ckeys[spec.name], Text(spec.title), spec.width)
            for spec in COLUMN_SPECS
        }
        self._visible: list[str] = [n for n in COLUMN_NAMES if n not in ("prompt", "target")]
        self._col_x: dict[str, tuple[int, int]] = {}
        self._model_width = 10
        self._target_width = 12
        self._layout_key: tuple[int, int, int] = (-1, -1, -1)
        self._status_styles: dict[str, Style] = {}
        self._cell_cache: dict[tuple[int, str, str], Text] = {}
        self._restoring = False
        self._quiet_scroll = False
        #: The row the user chose (generation_id); kept while it is hidden or gone.
        self.selected_key: str | None = None
        self.sort_column = "status"
        self.sort_reverse = False
        self.last_apply = ApplyStats()

    # -- public API ------------------------------------------------------------------

    @property
    def generations(self) -> dict[str, Generation]:
        """The generations shown, by id."""
        return self._gens

    @property
    def ordered_ids(self) -> list[str]:
        """Generation ids in display order."""
        return [key.value for key in self._order if key.value is not None]

    @property
    def cursor_id(self) -> str | None:
        """The id of the row under the cursor."""
        row = self.cursor_row
        if 0 <= row < len(self._order):
            return self._order[row].value
        return None

    @property
    def selected_generation(self) -> Generation | None:
        key = self.cursor_id
        return self._gens.get(key) if key is not None else None

    @property
    def visible_columns(self) -> list[str]:
        return list(self._visible)

    def mark_of(self, generation_id: str) -> RowMark:
        """How a row is marked (pending, finished, watched, its ETA)."""
        return self._marks.get(generation_id, DEFAULT_MARK)

    def cell_text(self, generation_id: str, column: str) -> str:
        """The plain text of a cell, hidden columns included."""
        return self._texts[generation_id][_IDX[column]]

    def select_id(self, generation_id: str) -> bool:
        """Move the cursor to a row (and make it the user's selection)."""
        key = self._row_keys.get(generation_id)
        if key is None:
            return False
        index = self._row_locations.get(key)
        if index is None:
            return False
        self.selected_key = generation_id
        self.move_cursor(row=index)
        return True

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
        marks = marks if marks is not None else {}
        old_marks = self._marks
        stats = ApplyStats()
        incoming: dict[str, Generation] = {}
        for gen in rows:
            incoming[gen.generation_id] = gen

        place = self._capture_place()
        old_order, old_top = self._order, int(self.scroll_y)
        gens, texts, data = self._gens, self._texts, self._data
        ckeys = [self._ckeys[name] for name in COLUMN_NAMES]

        removed = [key for key in gens if key not in incoming]
        if removed:
            self._remove_batch(removed)
            stats.removed = len(removed)

        added: list[RowKey] = []
        changed: list[tuple[RowKey, int]] = []
        static_sort = self.sort_column in STATIC_SORT_COLUMNS
        sort_key = sort_key_for(self.sort_column, now, self.sort_reverse)
        keys_moved = False
        for gid, gen in incoming.items():
            old = gens.get(gid)
            mark = marks.get(gid, DEFAULT_MARK)
            if old is None:
                row_key = RowKey(gid)
                cells = row_texts(gen, now, mark)
                self._row_keys[gid] = row_key
                gens[gid] = gen
                texts[gid] = cells
                if mark is not DEFAULT_MARK:
                    old_marks[gid] = mark
                dim = mark.state == DONE
                data[row_key] = {
                    ckey: self._make_cell(i, cells[i], gen, dim) for i, ckey in enumerate(ckeys)
                }
                self.rows[row_key] = Row(row_key, 1)
                self._set_due(gid, next_due(gen, now))
                added.append(row_key)
                self._note_widths(cells)
                continue
            old_mark = old_marks.get(gid, DEFAULT_MARK)
            if (old is gen or _same_row(old, gen)) and old_mark == mark:
                # Keep the newest object: the tracker and the app hold this page's rows,
                # so keeping the first one seen would keep two copies of every row alive.
                gens[gid] = gen
                continue
            gens[gid] = gen
            if static_sort and not keys_moved and sort_key(old) != sort_key(gen):
                keys_moved = True
            if mark is DEFAULT_MARK:
                old_marks.pop(gid, None)
            else:
                old_marks[gid] = mark
            dim = mark.state == DONE
            restyle_all = dim != (old_mark.state == DONE)
            row_key = self._row_keys[gid]
            cells = row_texts(gen, now, mark)
            previous = texts[gid]
            row_data = data[row_key]
            for i, text in enumerate(cells):
                # The status cell also restyles on a status change with the same label.
                if text != previous[i] or restyle_all or (i == 0 and old.status != gen.status):
                    row_data[ckeys[i]] = self._make_cell(i, text, gen, dim)
                    changed.append((row_key, i))
            texts[gid] = cells
            self._set_due(gid, next_due(gen, now))
            self._note_widths(cells)
        stats.added = len(added)
        stats.changed_cells = len(changed)

        order_changed = bool(removed)
        # With a sort key that depends only on the row, changed cells need a re-sort only
        # when some row's key changed.
        needs_sort = added or (keys_moved if static_sort else changed)
        if needs_sort or self.sort_column in ("wait", "run", "eta"):
            new_order = self._sorted_keys(now)
            if new_order != self._order:
                self._order = new_order
                order_changed = True
                stats.resorted = True
        elif removed:
            gone = set(removed)
            self._order = [key for key in self._order if key.value not in gone]

        if order_changed or added:
            self._row_locations = TwoWayDict({key: i for i, key in enumerate(self._order)})
        if added or removed or changed or order_changed:
            self._update_count += 1
        if added or removed:
            self._sync_virtual_size()
        if self._widths_dirty():
            self._apply_layout(force=True)

        # A scroll that keeps the user's row on its line repaints only the lines that
        # now show another row (`_refresh_moved`), not the whole table.
        self._quiet_scroll = True
        try:
            self._restore_place(place)
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
        """Sort by a column (`reverse=None`: that column's natural direction)."""
        if column not in SPEC_BY_NAME:
            raise ValueError(f"no column {column!r}")
        if reverse is None:
            reverse = SPEC_BY_NAME[column].descending_first
        self.sort_column, self.sort_reverse = column, reverse
        self._resort()

    def action_cycle_sort(self) -> None:
        names = [n for n in COLUMN_NAMES if n in self._visible] or list(COLUMN_NAMES)
        try:
            position = names.index(self.sort_column)
        except ValueError:
            position = -1
        self.set_sort(names[(position + 1) % len(names)])

    def action_reverse_sort(self) -> None:
        self.set_sort(self.sort_column, not self.sort_reverse)

    def restyle(self) -> None:
        """Recolour the status cells (after a theme change)."""
        self._status_styles = self._compute_status_styles()
        self._cell_cache.clear()
        ckey = self._ckeys["status"]
        marks = self._marks
        for gid, gen in self._gens.items():
            dim = gid in marks and marks[gid].state == DONE
            self._data[self._row_keys[gid]][ckey] = self._make_cell(
                0, self._texts[gid][0], gen, dim
            )
        self._update_count += 1
        self.refresh()

    # -- Textual hooks ---------------------------------------------------------------

    def on_mount(self) -> None:
        self._status_styles = self._compute_status_styles()
        self._cell_cache.clear()
        self._apply_layout(force=True)

    def on_resize(self) -> None:
        self._apply_layout()

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if not self._restoring and 0 <= new.row < len(self._order):
            self.selected_key = self._order[new.row].value

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if getattr(self, "_quiet_scroll", False):
            # apply_rows repaints the lines that changed itself (`_refresh_moved`).
            if self.show_vertical_scrollbar:
                self.vertical_scrollbar.position = new_value
            return
        super().watch_scroll_y(old_value, new_value)

    # Every row is one line high, so the line -> row map is `_order` itself. DataTable's
    # own version builds a list over every row after each `_update_count` bump.
    def _get_offsets(self, y: int) -> tuple[RowKey, int]:
        if self.show_header:
            header_height = self.header_height
            if y < header_height:
                return self._header_row_key, y
            y -= header_height
        order = self._order
        if not 0 <= y < len(order):
            raise LookupError(f"Y coord {y!r} is greater than total height")
        return order[y], 0

    @property
    def _total_row_height(self) -> int:
        return len(self._order)

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        # While restoring the user's place the scroll offset is set explicitly: the
        # cursor may be off-screen on purpose (the user scrolled away with the wheel).
        if not getattr(self, "_restoring", False):  # also called from DataTable.__init__
            super()._scroll_cursor_into_view(animate=animate)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value or ""
        if column == self.sort_column:
            self.set_sort(column, not self.sort_reverse)
        else:
            self.set_sort(column)

    # -- internals -------------------------------------------------------------------

    def _compute_status_styles(self) -> dict[str, Style]:
        try:
            variables = self.app.get_css_variables()
            dark = self.app.current_theme.dark
        except Exception:
            return {}
        return theme_status_styles(variables, dark=dark)

    def _make_cell(self, index: int, text: str, gen: Generation, dim: bool = False) -> Text:
        # Cells of the low-variety columns (status, model, media, times, dashes) repeat a
        # lot: share one Text per distinct value. DataTable only reads cell renderables.
        shared = index in SHARED_CELL_COLUMNS or text == DASH
        if shared:
            key = (index, text, gen.status if index == 0 else "", dim)
            cell = self._cell_cache.get(key)
            if cell is not None:
                return cell
        cell = self._build_cell(index, text, gen)
        if dim:
            # A finished row that lingers: still readable, clearly not in flight.
            cell.stylize("dim")
        if shared:
            if len(self._cell_cache) > CELL_CACHE_MAX:
                self._cell_cache.clear()
            self._cell_cache[key] = cell
        return cell

    def _build_cell(self, index: int, text: str, gen: Generation) -> Text:
        name = COLUMN_NAMES[index]
        if name == "status":
            return Text(
                text,
                style=status_style(self._status_styles, gen.status),
                end="",
                no_wrap=True,
                overflow="ellipsis",
            )
        if index in TIME_COLUMNS or index == _ETA:
            return Text(text, justify="right", end="", no_wrap=True)
        if name == "id" or text == DASH:
            return Text(text, style="dim", end="", no_wrap=True)
        return Text(text, end="", no_wrap=True, overflow="ellipsis")

    def _note_widths(self, cells: Sequence[str]) -> None:
        model = len(cells[_IDX["model"]])
        if model > self._model_width:
            self._model_width = min(model, MODEL_MAX)
        target = len(cells[_IDX["target"]])
        if target > self._target_width:
            self._target_width = min(target, TARGET_MAX)

    def _layout_inputs(self) -> tuple[int, int, int]:
        width = self.scrollable_content_region.width or self.size.width
        return (
            width,
            max(MODEL_MIN, min(self._model_width, MODEL_MAX)),
            max(TARGET_MIN, min(self._target_width, TARGET_MAX)),
        )

    def _widths_dirty(self) -> bool:
        return self.is_mounted and self._layout_inputs() != self._layout_key

    def _sorted_keys(self, now: float) -> list[RowKey]:
        gens = self._gens
        if self.sort_column == "eta":
            etas, reverse = self.etas, self.sort_reverse
            ordered = sorted(
                gens,
                key=lambda gid: (_missing_last(etas.get(gid), reverse), gid),
                reverse=reverse,
            )
        else:
            key = sort_key_for(self.sort_column, now, self.sort_reverse)
            ordered = sorted(gens, key=lambda gid: key(gens[gid]), reverse=self.sort_reverse)
        row_keys = self._row_keys
        return [row_keys[gid] for gid in ordered]

    def _resort(self) -> None:
        place = self._capture_place()
        self._order = self._sorted_keys(self.clock())
        self._row_locations = TwoWayDict({key: i for i, key in enumerate(self._order)})
        self._update_count += 1
        self._update_header_labels()
        self._restore_place(place)
        self.refresh()

    def _remove_batch(self, gids: Sequence[str]) -> None:
        """Remove rows in one pass (DataTable.remove_row rebuilds its index map per row)."""
        for gid in gids:
            row_key = self._row_keys.pop(gid)
            del self._data[row_key]
            del self.rows[row_key]
            del self._gens[gid]
            del self._texts[gid]
            self._due.pop(gid, None)
            self._marks.pop(gid, None)
            self._new_rows.discard(row_key)
        if self._updated_cells:
            self._updated_cells = {c for c in self._updated_cells if c.row_key in self.rows}

    def _sync_virtual_size(self) -> None:
        # Every row is one line and every column has a fixed width, so this is what
        # DataTable._update_dimensions would compute, without measuring every new cell.
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, len(self._order) + header)
        self._new_rows.clear()

    def _viewport_rows(self) -> int:
        header = self.header_height if self.show_header else 0
        return max(1, self.scrollable_content_region.height - header)

    def _capture_place(self) -> tuple[str | None, str | None, int, int, list[RowKey]] | None:
        if not self._order:
            return (self.selected_key, None, 0, 0, []) if self.selected_key else None
        index = min(max(self.cursor_row, 0), len(self._order) - 1)
        offset = index - int(self.scroll_y)
        return (self.selected_key, self._order[index].value, index, offset, self._order)

    def _restore_place(
        self, place: tuple[str | None, str | None, int, int, list[RowKey]] | None
    ) -> None:
        if not self._order:
            if self.cursor_coordinate != Coordinate(0, 0):
                self._restoring = True
                try:
                    self.cursor_coordinate = Coordinate(0, 0)
                finally:
                    self._restoring = False
            return
        if place is None:
            # First rows: the top row is the selection until the user moves.
            if self.selected_key is None:
                self.selected_key = self._order[0].value
            return
        selected, cursor_gid, old_index, offset, old_order = place
        target: RowKey | None = None
        if selected is not None and selected in self._row_keys:
            target = self._row_keys[selected]
        elif cursor_gid is not None and cursor_gid in self._row_keys:
            target = self._row_keys[cursor_gid]
        else:
            # The row under the cursor went away: take its nearest surviving neighbour
            # below, else above, in the old order.
            for i in range(old_index + 1, len(old_order)):
                if old_order[i].value in self._row_keys:
                    target = old_order[i]
                    break
            else:
                for i in range(min(old_index, len(old_order)) - 1, -1, -1):
                    if old_order[i].value in self._row_keys:
                        target = old_order[i]
                        break
        new_index = self._row_locations.get(target) if target is not None else None
        if new_index is None:
            new_index = min(old_index, len(self._order) - 1)
        if selected is None:
            self.selected_key = self._order[new_index].value
        max_scroll = max(0, len(self._order) - self._viewport_rows())
        new_scroll = min(max(new_index - offset, 0), max_scroll)
        self._restoring = True
        try:
            if int(self.scroll_y) != new_scroll:
                self.scroll_to(y=new_scroll, animate=False, immediate=True, force=True)
            if self.cursor_row != new_index:
                self.cursor_coordinate = Coordinate(new_index, 0)
        finally:
            self._restoring = False

    def _tick(self, now: float) -> list[tuple[RowKey, int]]:
        """Rewrite time cells that are due; returns the cells that changed."""
        changed: list[tuple[RowKey, int]] = []
        heap, due_map = self._due_heap, self._due
        due_rows: list[str] = []
        seen: set[str] = set()
        while heap and heap[0][0] <= now:
            due, gid = heapq.heappop(heap)
            if due_map.get(gid) == due and gid not in seen:
                seen.add(gid)
                due_rows.append(gid)
        if not due_rows:
            return changed
        ckeys = self._ckeys
        marks = self._marks
        for gid in due_rows:
            gen = self._gens[gid]
            row_key = self._row_keys[gid]
            cells = self._texts[gid]
            dim = gid in marks and marks[gid].state == DONE
            for index, text in zip(TIME_COLUMNS, time_texts(gen, now), strict=True):
                if cells[index] != text:
                    cells[index] = text
                    self._data[row_key][ckeys[COLUMN_NAMES[index]]] = self._make_cell(
                        index, text, gen, dim
                    )
                    changed.append((row_key, index))
            self._set_due(gid, next_due(gen, now))
        if changed:
            self._update_count += 1
        return changed

    def _set_due(self, gid: str, due: float) -> None:
        self._due[gid] = due
        if due == math.inf:
            return
        heap = self._due_heap
        if len(heap) > 2 * len(self._due) + 1024:
            # Mostly stale entries: rebuild from the live dues.
            heap[:] = [(d, g) for g, d in self._due.items() if d != math.inf]
            heapq.heapify(heap)
        else:
            heapq.heappush(heap, (due, gid))

    def _refresh_cells(self, cells: Sequence[tuple[RowKey, int]]) -> None:
        """Repaint only the visible cells that changed (few bytes over ssh)."""
        if not cells or not self.is_mounted:
            return
        header = self.header_height if self.show_header else 0
        top = int(self.scroll_y)
        bottom = top + self._viewport_rows()
        scroll_x = int(self.scroll_x)
        regions: list[Region] = []
        for row_key, index in cells:
            row = self._row_locations.get(row_key)
            if row is None or not top <= row < bottom:
                continue
            span = self._col_x.get(COLUMN_NAMES[index])
            if span is None:
                continue
            x, width = span
            regions.append(Region(x - scroll_x, header + row - top, width, 1))
        if len(regions) > 3 * self._viewport_rows():
            self.refresh()
        elif regions:
            self.refresh(*regions)

    def _refresh_moved(
        self, old_order: Sequence[RowKey], old_top: int, cells: Sequence[tuple[RowKey, int]]
    ) -> None:
        """After rows moved, were added or removed: repaint only the visible lines that
        now show another row (a row moving from line 9 to line 2 repaints lines 2-9),
        plus the changed cells elsewhere. `old_top` is the scroll offset before: a line
        compares the row it showed then with the row it shows now."""
        if not self.is_mounted:
            return
        top = int(self.scroll_y)
        new_order = self._order
        n_old, n_new = len(old_order), len(new_order)
        header = self.header_height if self.show_header else 0
        width = self.size.width
        moved: set[int] = set()
        regions: list[Region] = []
        for line in range(self._viewport_rows()):
            y, old_y = top + line, old_top + line
            a = old_order[old_y] if old_y < n_old else None
            b = new_order[y] if y < n_new else None
            if a is not b:
                moved.add(y)
                regions.append(Region(0, header + line, width, 1))
        if regions:
            self.refresh(*regions)
        locations = self._row_locations
        self._refresh_cells([c for c in cells if locations.get(c[0]) not in moved])

    def _apply_layout(self, *, force: bool = False) -> None:
        """Choose the visible columns and their widths for the table's width."""
        inputs = self._layout_inputs()
        if not force and inputs == self._layout_key:
            return
        self._layout_key = inputs
        width, model_w, target_w = inputs
        pad = 2 * self.cell_padding
        fixed_names = ["status", "model", "media", "age", "wait", "run", "eta", "id"]
        widths = {n: SPEC_BY_NAME[n].width for n in fixed_names}
        widths["model"] = model_w
        used = sum(widths.values()) + pad * len(fixed_names)
        avail = width - used
        visible = list(fixed_names)
        if avail >= (PROMPT_MIN + pad) + (TARGET_MIN + pad):
            target_w = min(target_w, max(TARGET_MIN, (avail - 2 * pad) // 2))
            widths["target"] = target_w
            widths["prompt"] = avail - 2 * pad - target_w
            visible += ["prompt", "target"]
        elif avail >= TARGET_MIN + pad:
            widths["target"] = min(avail - pad, target_w)
            visible.append("target")
        elif width and avail < 0 and width >= 40:
            # Very narrow: give the model column what there is.
            widths["model"] = max(MODEL_MIN, model_w + avail)
        if "target" in widths and "prompt" not in widths:
            # Hand any spare width to the target column.
            widths["target"] = max(widths["target"], min(TARGET_MAX, avail - pad))
        ordered = [n for n in COLUMN_NAMES if n in visible]
        self._visible = ordered
        columns: dict[ColumnKey, Column] = {}
        x = 0
        self._col_x = {}
        for name in ordered:
            column = self._column_objs[name]
            column.width = widths[name]
            column.auto_width = False
            columns[self._ckeys[name]] = column
            self._col_x[name] = (x, column.width + pad)
            x += column.width + pad
        self.columns = columns
        self._column_locations = TwoWayDict({self._ckeys[n]: i for i, n in enumerate(ordered)})
        self._update_header_labels()
        self._update_count += 1
        self._clear_caches()
        self._sync_virtual_size()
        if self.cursor_column >= len(ordered):
            self.cursor_coordinate = Coordinate(self.cursor_row, 0)
        self.refresh()

    def _update_header_labels(self) -> None:
        arrow = " ▼" if self.sort_reverse else " ▲"
        for spec in COLUMN_SPECS:
            label = spec.title + (arrow if spec.name == self.sort_column else "")
            style = "bold" if spec.name == self.sort_column else ""
            column = self._column_objs[spec.name]
            column.label = Text(label, style=style, justify="right" if spec.right else "left")
        self._update_count += 1
        self.refresh()
