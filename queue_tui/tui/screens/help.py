"""`?`: every key, grouped, in a modal."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Queue",
        (
            ("r  ctrl+r", "refresh now"),
            ("p", "pause / resume polling"),
            ("s / S", "sort by the next column / reverse the sort"),
            ("click header", "sort by that column (again: reverse)"),
            ("h", "hide / show finished rows (kept --linger)"),
            ("t", "stats: per model, queue depth, failures"),
        ),
    ),
    (
        "Moving",
        (
            ("↑ ↓  j k", "previous / next row"),
            ("pgup pgdn", "page up / down"),
            ("g G  home end", "first / last row"),
            ("enter", "full-screen detail (again or esc: back)"),
            ("d", "show / hide the detail pane"),
            ("tab shift+tab", "move between the table, pane and filters"),
        ),
    ),
    (
        "Filters",
        (
            ("/", "search id, model, target, prompt, error (instant)"),
            ("f", "show / hide the namespace, repo, folder filters"),
            ("enter", "in a filter: apply it and return to the table"),
            ("esc", "leave a filter, back to the table"),
            ("ctrl+l", "clear all filters"),
        ),
    ),
    (
        "Selected generation",
        (
            ("c", "copy the result URL (or the id)"),
            ("o", "open the result URL in a browser"),
            ("del  C", "cancel it on the hub (asks first)"),
            ("w", "watch it (★): always told when it finishes"),
            ("x", "dismiss it once finished"),
        ),
    ),
    (
        "App",
        (
            ("ctrl+p", "command palette (refresh, pause, filters, theme, copy)"),
            ("?", "this help"),
            ("q  ctrl+c", "quit"),
        ),
    ),
)


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold", min_width=14)
    table.add_column()
    for i, (group, keys) in enumerate(KEYS):
        if i:
            table.add_row("", "")
        table.add_row(Text(group, style="bold underline"), "")
        for key, what in keys:
            table.add_row(Text(key), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape,q,question_mark,enter", "dismiss", "Close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-align: center;
        border-subtitle-align: center;
        background: $surface;
        padding: 0 2;
    }
    HelpScreen Static {
        width: 1fr;
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "queue-tui keys"
            scroll.border_subtitle = "esc to close"
            yield Static(help_table())

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
