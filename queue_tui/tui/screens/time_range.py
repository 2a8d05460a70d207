"""The History view's range of one's own (`T`): since and until as `queue-tui history`
takes them (`36h`, `2026-11-29`, `2026-11-29T14:00`), checked before it closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from queue_tui.core.history import time_range

#: What the screen answers: the since and until texts (None: open), checked.
Custom = tuple[str | None, str | None]


class TimeRangeScreen(ModalScreen[Custom | None]):
    BINDINGS: ClassVar = [Binding("escape", "close", "Cancel")]
    AUTO_FOCUS = "#range-since"

    DEFAULT_CSS = """
    TimeRangeScreen {
        align: center middle;
    }
    TimeRangeScreen > Vertical {
        width: 60;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    TimeRangeScreen Input {
        width: 100%;
    }
    TimeRangeScreen #range-error {
        color: $error;
        height: auto;
    }
    """

    def __init__(self, clock: Callable[[], float], since: str = "", until: str = "") -> None:
        super().__init__()
        self.clock = clock
        self._since, self._until = since, until

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "History: time range"
            yield Static("Since (30m, 36h, 7d, 2026-11-29, 2026-11-29T14:00)", markup=False)
            yield Input(self._since, placeholder="any time", id="range-since")
            yield Static("Until (empty: now)", markup=False)
            yield Input(self._until, placeholder="now", id="range-until")
            yield Static("", id="range-error", markup=False)
            yield Static("enter: apply  tab: next  esc: cancel", classes="hint", markup=False)

    @property
    def error_text(self) -> str:
        return str(self.query_one("#range-error", Static).render())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        since = self.query_one("#range-since", Input).value.strip() or None
        until = self.query_one("#range-until", Input).value.strip() or None
        try:
            time_range(since, until, self.clock(), names=("since", "until"))
        except ValueError as exc:
            self.query_one("#range-error", Static).update(str(exc))
            return
        self.dismiss((since, until))

    def action_close(self) -> None:
        self.dismiss(None)
