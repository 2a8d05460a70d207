"""Enter: the selected generation full-screen (long errors, tracebacks, prompts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from queue_tui.api.models import Generation
from queue_tui.tui.widgets.detail_pane import DetailPane
from queue_tui.tui.widgets.footer import DashboardFooter


class DetailScreen(Screen[None]):
    """Follows the same generation live: the app calls `show` on every update."""

    BINDINGS: ClassVar = [
        Binding("escape,enter", "close", "Back"),
        Binding("c", "app.copy", "Copy"),
        Binding("o", "app.open_url", "Open"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, gen: Generation | None, *, clock: Callable[[], float]) -> None:
        super().__init__()
        self.pane = DetailPane(clock=clock, id="detail-full")
        self._initial = gen

    def compose(self) -> ComposeResult:
        yield self.pane
        yield DashboardFooter()

    def on_mount(self) -> None:
        self.pane.show(self._initial, force=True)
        self.pane.focus()

    def action_close(self) -> None:
        self.dismiss(None)
