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
            ("p", "pause (the screen holds still) / resume"),
            ("s / S", "sort by the next column / reverse the sort"),
            ("click header", "sort by that column (again: reverse)"),
            ("h", "hide / show finished rows (kept --linger)"),
            ("t", "stats: per model, depth, failures, cost"),
        ),
    ),
    (
        "History",
        (
            ("H", "past generations, newest first: cost, user"),
            ("t", "time range: any, last hour, day, week"),
            ("T", "a range of your own: since (36h, 2026-11-29), until"),
            ("s", "summary: spend and count per model, day"),
            ("a", "load every row of the range"),
            ("r", "reload from the newest"),
            ("esc  H", "back to the queue (it kept polling)"),
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
            ("F", "clear all filters"),
        ),
    ),
    (
        "Selected generation",
        (
            ("c", "copy the result URL (or the id)"),
            ("o", "open the URL in a browser (or copy it)"),
            ("del  C", "cancel it on the hub (asks first)"),
            ("w", "watch it (★): always told when it finishes"),
            ("x", "dismiss it once finished"),
            ("R", "resubmit it if failed or cancelled (asks)"),
        ),
    ),
    (
        "Many rows",
        (
            ("space", "mark / unmark (▌), then go to the next row"),
            ("*", "mark every row shown (the filters apply)"),
            ("U", "clear the marks"),
            ("del  C", "with marks: cancel those still in flight"),
            ("R", "with marks: resubmit failed or cancelled"),
        ),
    ),
    (
        "App",
        (
            ("ctrl+p", "command palette (refresh, pause, filters, theme, copy)"),
            ("?", "this help"),
            ("ctrl+l", "redraw the screen"),
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


class HelpScroll(VerticalScroll):
    """The list, focused on open: it scrolls with the keys the table moves with (at
    80x24 it is longer than the screen)."""

    BINDINGS: ClassVar = [
        Binding("k", "scroll_up", "Scroll up", show=False),
        Binding("j", "scroll_down", "Scroll down", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]


class HelpScreen(ModalScreen[None]):
    AUTO_FOCUS = "HelpScroll"
    BINDINGS: ClassVar = [
        Binding("escape,q,question_mark,enter", "dismiss", "Close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > HelpScroll {
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
        with HelpScroll() as scroll:
            scroll.border_title = "queue-tui keys"
            scroll.border_subtitle = "↑↓ j k pgup pgdn to scroll · esc to close"
            yield Static(help_table())

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
