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


def render_generation(
    gen: Generation,
    now: float,
    styles: dict[str, Style] | None = None,
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
    wait = gen.wait_seconds(now)
    run = gen.run_seconds(now)
    row("queue wait", fmt_duration(wait) if wait is not None else DASH)
    row("run time", fmt_duration(run) if run is not None else DASH)
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
        fmt_duration(gen.wait_seconds(now)),
        fmt_duration(gen.run_seconds(now)),
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
        self._body = Static(Text("No generation selected", style="dim"), id="detail-body")
        self.border_title = "Details"

    def compose(self):  # type: ignore[override]
        yield self._body

    def show(
        self, gen: Generation | None, now: float | None = None, *, force: bool = False
    ) -> bool:
        """Display `gen`; returns whether anything was repainted."""
        now = self.clock() if now is None else now
        signature = detail_signature(gen, now)
        if not force and signature == self._signature:
            return False
        if (
            gen is None
            or self.generation is None
            or (gen.generation_id != self.generation.generation_id)
        ):
            self.scroll_home(animate=False)
        self._signature = signature
        self.generation = gen
        if gen is None:
            self._body.update(Text("No generation selected", style="dim"))
        else:
            try:
                variables = self.app.get_css_variables()
                styles = theme_status_styles(variables, dark=self.app.current_theme.dark)
            except Exception:
                styles = {}
            self._body.update(render_generation(gen, now, styles))
        return True

    def plain_text(self, width: int = 200) -> str:
        """The pane's content as plain text (unwrapped at `width`), for tests and tools."""
        if self.generation is None:
            return ""
        console = Console(width=width, no_color=True, record=True, file=io.StringIO())
        console.print(render_generation(self.generation, self.clock()))
        return console.export_text()

    @property
    def result_url(self) -> str | None:
        """The selected generation's result URL when it is safe to open."""
        return safe_url(self.generation.result_url) if self.generation else None
