"""Everything about the selected generation, in a scrollable pane.

All hub text is cleaned and wrapped in `Text`; the result URL becomes a terminal
hyperlink only when `safe_url` accepts it. Relative times tick coarsely (`3m ago`) so
the pane repaints rarely on an idle dashboard, and when only they move (every second
during a generation's first minute) `DetailBody` repaints just the cells that changed,
not the whole pane.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from rich.cells import _is_single_cell_widths, split_graphemes
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from queue_tui.api.models import Generation
from queue_tui.core.columns import TARGET_PARTS, durations, status_label, target_text
from queue_tui.core.dashboard import BAD_VALUE, bad_fields
from queue_tui.core.timefmt import DASH, fmt_coarse, fmt_local
from queue_tui.sanitize import clean, safe_url
from queue_tui.tui.presentation import status_style, theme_status_styles
from queue_tui.tui.safe_text import link_text, safe_text

PARAM_VALUE_MAX = 300
ERROR_MAX = 20_000
PROMPT_MAX = 10_000
LABEL_WIDTH = 12
#: Characters of a raw value of the wrong type shown beside its `?`.
RAW_MAX = 200


def _relative(ts: float | None, now: float) -> str:
    if ts is None:
        return DASH
    delta = now - ts
    if delta < 0:
        return f"{fmt_local(ts)}  (in {fmt_coarse(-delta)})"
    if delta < 1:
        return f"{fmt_local(ts)}  (just now)"
    return f"{fmt_local(ts)}  ({fmt_coarse(delta)} ago)"


def _param_value(value: Any) -> str:
    if isinstance(value, str):
        return clean(value, max_len=PARAM_VALUE_MAX)
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(value)
    return clean(text, max_len=PARAM_VALUE_MAX)


def _bad_value(gen: Generation, name: str, style: Style | str = "") -> Text:
    """`? (the hub sent "yesterday")`: a field of the wrong type, with what was sent."""
    raw = clean(gen.invalid_fields.get(name), max_len=RAW_MAX)
    return Text.assemble((BAD_VALUE, style), f" (the hub sent {raw})", end="")


#: Extra (label, text) lines the app adds under the status: lifecycle, ETA, watched.
#: App-made plain text (never parsed as markup); hub text in it must be cleaned.
DetailNotes = tuple[tuple[str, str], ...]


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, width=LABEL_WIDTH)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def _text_key(text: Text) -> tuple[Any, ...]:
    return (text.plain, text.style, tuple(text.spans), text.justify, text.overflow, text.no_wrap)


class DetailGrid:
    """A two-column grid (label, value), kept as rows: it renders exactly as one
    `Table.grid` would (the label column has a fixed width and the value column takes
    the rest, so no row's width depends on another's), and `DetailBody` can reuse the
    lines of the rows that did not change."""

    def __init__(self) -> None:
        self.rows: list[tuple[Text, Text]] = []

    def add_row(self, label: Text, value: Text) -> None:
        self.rows.append((label, value))

    @staticmethod
    def row_key(label: Text, value: Text) -> tuple[Any, ...]:
        """Equal for two rows that render the same."""
        return (*_text_key(label), *_text_key(value))

    @staticmethod
    def row_renderable(label: Text, value: Text) -> Table:
        grid = _grid()
        grid.add_row(label, value)
        return grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        grid = _grid()
        for label, value in self.rows:
            grid.add_row(label, value)
        yield grid


def render_generation(
    gen: Generation,
    now: float,
    styles: dict[str, Style] | None = None,
    notes: DetailNotes = (),
) -> DetailGrid:
    """A two-column grid (label, value) describing `gen`."""
    styles = styles or {}
    grid = DetailGrid()

    def row(label: str, value: Text | str) -> None:
        grid.add_row(Text(label), value if isinstance(value, Text) else Text(value))

    bad = bad_fields(gen)
    bad_style = status_style(styles, "unknown") + Style(bold=True)

    def field(label: str, name: str, value: Text | str) -> None:
        """A row for one field: `value`, or `?` and the raw value when it was bad."""
        row(label, _bad_value(gen, name, bad_style) if name in bad else value)

    status = Text(status_label(gen.status, max_len=40), style=status_style(styles, gen.status))
    field("status", "status", status)
    for label, text in notes:
        row(label, Text(text, style="italic"))
    if "error_message" in bad:
        field("error", "error_message", "")
    elif gen.error_message:
        error_style = status_style(styles, "failed") if styles else Style(color="red")
        row(
            "error",
            safe_text(
                gen.error_message,
                max_len=ERROR_MAX,
                multiline=True,
                style=error_style + Style(bold=False),
            ),
        )
    if "result_url" in bad:
        field("result", "result_url", "")
    elif gen.result_url:
        row("result", link_text(gen.result_url))
    row("id", safe_text(gen.generation_id, multiline=True))
    field("model", "model_name", safe_text(gen.model_name, multiline=True))
    field("media", "media_type", safe_text(gen.media_type))
    row("target", safe_text(target_text(gen, bad) or DASH, multiline=True))
    for name, label in TARGET_PARTS:
        if name in bad:
            field(label, name, "")
    field("enqueued", "enqueued_at", _relative(gen.enqueued_at, now))
    field("started", "started_at", _relative(gen.started_at, now))
    field("completed", "completed_at", _relative(gen.completed_at, now))
    # Coarse while they grow, so the pane repaints once a minute for a long run.
    wait, run = durations(gen, now)
    row("queue wait", wait)
    row("run time", run)
    if "prompt" in bad:
        field("prompt", "prompt", "")
    elif gen.prompt:
        row("prompt", safe_text(gen.prompt, max_len=PROMPT_MAX, multiline=True))
    for key, value in sorted(gen.params.items(), key=lambda kv: str(kv[0])):
        row(clean(key, max_len=LABEL_WIDTH), Text(_param_value(value)))
    if not gen.status_reported and "status" not in gen.invalid_fields:
        row("note", Text("the hub sent no status (older row shape)", style="dim"))
    return grid


def detail_signature(gen: Generation | None, now: float) -> tuple[Any, ...]:
    """Changes exactly when the rendered pane would (the relative times tick coarsely)."""
    if gen is None:
        return (None,)
    return (
        gen,
        _relative(gen.enqueued_at, now),
        _relative(gen.started_at, now),
        _relative(gen.completed_at, now),
        *durations(gen, now),
    )


#: A cell past a line's end (no cell of a line equals it).
_PAST_END: tuple[str, Style | None] = ("\x00", None)


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    """One (text, style) per cell; the right half of a wide character is ("", style)."""
    cells: list[tuple[str, Style | None]] = []
    for text, style, _ in strip:
        if _is_single_cell_widths(text):
            cells.extend((char, style) for char in text)
            continue
        spans, _width = split_graphemes(text)
        for start, end, width in spans:
            if width == 0 and cells:
                prev, prev_style = cells[-1]
                cells[-1] = (prev + text[start:end], prev_style)
                continue
            cells.append((text[start:end], style))
            if width == 2:
                cells.append(("", style))
    return cells


def changed_span(old: Strip, new: Strip) -> tuple[int, int] | None:
    """The cells [x0, x1) that differ between two renders of a line, None if none do."""
    if old == new:
        return None
    a, b = _cells(old), _cells(new)
    # Cell by cell at the same x: past the end of the shorter line the screen shows the
    # widget's blank, never a cell of the other line. (Matching the two lines from their
    # ends instead misses a tail that moved: "in 10s" -> "in 9s" left "9ss" on screen.)
    n = max(len(a), len(b))
    a += [_PAST_END] * (n - len(a))
    b += [_PAST_END] * (n - len(b))
    x0 = 0
    while x0 < n and a[x0] == b[x0]:
        x0 += 1
    if x0 == n:
        return None
    x1 = n
    while x1 > x0 and a[x1 - 1] == b[x1 - 1]:
        x1 -= 1
    # Whole wide characters: one starts a cell left of its right half ("").
    if x0 > 0 and any(x0 < len(c) and c[x0][0] == "" for c in (a, b)):
        x0 -= 1
    if any(x1 < len(c) and c[x1][0] == "" for c in (a, b)):
        x1 += 1
    return x0, x1


class DetailBody(Widget):
    """The pane's content: a Rich renderable drawn line by line.

    Like a `Static`, but `set_content(..., layout=False)` renders the new content once,
    compares it line by line with what is on screen, and repaints only the cells that
    changed: a relative time ticking in the first minute rewrites a few cells, not
    every line of the pane. Anything else that repaints the whole widget (theme, CSS,
    selection, resize) renders it again from scratch.
    """

    DEFAULT_CSS = """
    DetailBody {
        height: auto;
    }
    """

    def __init__(self, content: RenderableType, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content = content
        self._lines: list[Strip] | None = None
        self._lines_width = -1
        #: Lines of each DetailGrid row rendered at `_lines_width`, by row key.
        self._row_lines: dict[tuple[Any, ...], list[Strip]] = {}
        #: Line regions repainted by the last `set_content` (None: the whole widget).
        self.last_repaint: list[Region] | None = None

    @property
    def content(self) -> RenderableType:
        return self._content

    def render(self) -> RenderableType:
        return self._content

    def _to_strips(self, renderable: RenderableType, width: int) -> list[Strip]:
        visual = visualize(self, renderable, markup=False)
        return Visual.to_strips(self, visual, width, None, self.visual_style)

    def _render_strips(self, width: int, *, by_row: bool = False) -> list[Strip]:
        """The content's lines at `width`. `by_row` (a DetailGrid): row by row, reusing
        the lines of rows rendered so before at this width (about twice the cost of one
        render the first time, a fraction of it when most rows are unchanged)."""
        content = self._content
        if not by_row or not isinstance(content, DetailGrid):
            self._row_lines = {}
            return self._to_strips(content, width)
        cached = self._row_lines if width == self._lines_width else {}
        rows: dict[tuple[Any, ...], list[Strip]] = {}
        strips: list[Strip] = []
        for label, value in content.rows:
            key = DetailGrid.row_key(label, value)
            lines = rows.get(key) or cached.get(key)
            if lines is None:
                lines = self._to_strips(DetailGrid.row_renderable(label, value), width)
            rows[key] = lines
            strips.extend(lines)
        self._row_lines = rows
        return strips

    def _current_lines(self) -> list[Strip]:
        width = self.size.width
        if self._lines is None or self._lines_width != width:
            self._lines = self._render_strips(width)
            self._lines_width = width
        return self._lines

    def render_line(self, y: int) -> Strip:
        lines = self._current_lines()
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def refresh(self, *regions: Region, **kwargs: Any) -> DetailBody:  # type: ignore[override]
        if not regions and kwargs.get("repaint", True):
            # A whole-widget repaint (new content, styles, theme, selection): render anew.
            self._lines = None
            self._row_lines = {}
        super().refresh(*regions, **kwargs)
        return self

    def set_content(self, content: RenderableType, *, layout: bool = True) -> None:
        """Show `content`. With `layout=False` (the caller knows the height is the same)
        only the cells that differ from what is shown are repainted."""
        old = self._lines
        width = self.size.width
        self._content = content
        if layout or old is None or self._lines_width != width or not self.is_mounted:
            self.last_repaint = None
            self.refresh(layout=layout)
            return
        new = self._render_strips(width, by_row=True)
        if len(new) != len(old):
            self.last_repaint = None
            self.refresh(layout=True)
            return
        self._lines = new
        regions: list[Region] = []
        for y, (before, after) in enumerate(zip(old, new, strict=True)):
            span = changed_span(before, after)
            if span is not None:
                regions.append(Region(span[0], y, span[1] - span[0], 1))
        self.last_repaint = regions
        if regions:
            super().refresh(*regions)


class DetailPane(VerticalScroll):
    """The selected generation's fields; scrolls when the error or prompt is long."""

    DEFAULT_CSS = """
    DetailPane {
        scrollbar-size-vertical: 1;
    }
    DetailPane > DetailBody {
        width: 100%;
    }
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock
        self.generation: Generation | None = None
        self._signature: tuple[Any, ...] | None = None
        self.empty_message = "No generation selected"
        self._body = DetailBody(Text(self.empty_message, style="dim"), id="detail-body")
        self.border_title = "Details"
        #: Supplies the app's notes for a generation (lifecycle, ETA, watched).
        self.notes_for: Callable[[Generation], DetailNotes] | None = None
        self.notes: DetailNotes = ()
        #: The theme the status styles were worked out for, and those styles.
        self._theme_styles: tuple[object, dict[str, Style]] | None = None

    def compose(self):  # type: ignore[override]
        yield self._body

    def show(
        self, gen: Generation | None, now: float | None = None, *, force: bool = False
    ) -> bool:
        """Display `gen`; returns whether anything was repainted."""
        now = self.clock() if now is None else now
        notes = self.notes_for(gen) if gen is not None and self.notes_for is not None else ()
        signature = (*detail_signature(gen, now), self.empty_message, notes)
        if not force and signature == self._signature:
            return False
        same_row = (
            gen is not None
            and self.generation is not None
            and gen.generation_id == self.generation.generation_id
        )
        if not same_row:
            self.scroll_home(animate=False)
        # Only the relative times moved: same lines, so no layout pass (which would
        # repaint far more of the screen than the few characters that changed).
        times_only = same_row and gen == self.generation and notes == self.notes and not force
        self._signature = signature
        self.generation = gen
        self.notes = notes
        if gen is None:
            self._body.set_content(Text(self.empty_message, style="dim"))
        else:
            styles = self._status_styles()
            self._body.set_content(
                render_generation(gen, now, styles, notes), layout=not times_only
            )
        return True

    def _status_styles(self) -> dict[str, Style]:
        """The theme's status styles, worked out again only when the theme changes
        (reading the CSS variables costs more than the rest of a render)."""
        try:
            theme = self.app.current_theme
            if self._theme_styles is None or self._theme_styles[0] is not theme:
                styles = theme_status_styles(self.app.get_css_variables(), dark=theme.dark)
                self._theme_styles = (theme, styles)
            return self._theme_styles[1]
        except Exception:
            return {}

    def plain_text(self, width: int = 200) -> str:
        """The pane's content as plain text (unwrapped at `width`), for tests and tools."""
        if self.generation is None:
            return ""
        console = Console(width=width, no_color=True, record=True, file=io.StringIO())
        console.print(render_generation(self.generation, self.clock(), notes=self.notes))
        return console.export_text()

    @property
    def result_url(self) -> str | None:
        """The selected generation's result URL when it is safe to open."""
        return safe_url(self.generation.result_url) if self.generation else None
