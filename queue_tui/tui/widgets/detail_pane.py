"""Everything about the selected generation, in a scrollable pane.

All hub text is cleaned and wrapped in `Text`; the result URL becomes a terminal
hyperlink only when `safe_url` accepts it. Relative times tick coarsely (`3m ago`) so
the pane repaints rarely on an idle dashboard.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from rich.console import Console, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from queue_tui.api.models import Generation
from queue_tui.core.sanitize import clean, safe_url
from queue_tui.core.timefmt import DASH, fmt_coarse, fmt_duration, fmt_local
from queue_tui.tui.presentation import status_label, status_style, theme_status_styles
from queue_tui.tui.safe_text import link_text, safe_text

PARAM_VALUE_MAX = 300
ERROR_MAX = 20_000
PROMPT_MAX = 10_000
LABEL_WIDTH = 12


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


def _durations(gen: Generation, now: float) -> tuple[str, str]:
    """Queue wait and run time: exact once final, coarse while they grow (so the pane
    repaints once a minute, not every second, for a long-running generation)."""
    wait, run = gen.wait_seconds(now), gen.run_seconds(now)
    live_wait = gen.started_at is None and not gen.is_terminal
    live_run = gen.completed_at is None and not gen.is_terminal
    wait_text = (fmt_coarse if live_wait else fmt_duration)(wait)
    run_text = (fmt_coarse if live_run else fmt_duration)(run)
    return wait_text, run_text


#: Extra (label, text) lines the app adds under the status: lifecycle, ETA, watched.
#: App-made plain text (never parsed as markup); hub text in it must be cleaned.
DetailNotes = tuple[tuple[str, str], ...]


def render_generation(
    gen: Generation,
    now: float,
    styles: dict[str, Style] | None = None,
    notes: DetailNotes = (),
) -> RenderableType:
    """A two-column grid (label, value) describing `gen`."""
    styles = styles or {}
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, width=LABEL_WIDTH)
    grid.add_column(ratio=1, overflow="fold")

    def row(label: str, value: Text | str) -> None:
        grid.add_row(Text(label), value if isinstance(value, Text) else Text(value))

    status = Text(status_label(gen.status, max_len=40), style=status_style(styles, gen.status))
    row("status", status)
    for label, text in notes:
        row(label, Text(text, style="italic"))
    if gen.error_message:
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
    if gen.result_url:
        row("result", link_text(gen.result_url))
    row("id", safe_text(gen.generation_id, multiline=True))
    row("model", safe_text(gen.model_name, multiline=True))
    row("media", safe_text(gen.media_type))
    row("target", safe_text(gen.target or DASH, multiline=True))
    row("enqueued", _relative(gen.enqueued_at, now))
    row("started", _relative(gen.started_at, now))
    row("completed", _relative(gen.completed_at, now))
    wait, run = _durations(gen, now)
    row("queue wait", wait)
    row("run time", run)
    if gen.prompt:
        row("prompt", safe_text(gen.prompt, max_len=PROMPT_MAX, multiline=True))
    for key, value in sorted(gen.params.items(), key=lambda kv: str(kv[0])):
        row(clean(key, max_len=LABEL_WIDTH), Text(_param_value(value)))
    if not gen.status_reported:
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
        *_durations(gen, now),
    )


class DetailPane(VerticalScroll):
    """The selected generation's fields; scrolls when the error or prompt is long."""

    DEFAULT_CSS = """
    DetailPane {
        scrollbar-size-vertical: 1;
    }
    DetailPane > Static {
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
        self._body = Static(Text(self.empty_message, style="dim"), id="detail-body")
        self.border_title = "Details"
        #: Supplies the app's notes for a generation (lifecycle, ETA, watched).
        self.notes_for: Callable[[Generation], DetailNotes] | None = None
        self.notes: DetailNotes = ()

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
            self._body.update(Text(self.empty_message, style="dim"))
        else:
            try:
                variables = self.app.get_css_variables()
                styles = theme_status_styles(variables, dark=self.app.current_theme.dark)
            except Exception:
                styles = {}
            self._body.update(render_generation(gen, now, styles, notes), layout=not times_only)
        return True

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
