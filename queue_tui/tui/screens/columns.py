"""The column chooser (command palette: "Choose columns").

A list of the table's columns (`CHOOSABLE_COLUMNS`) to tick or untick with space or a
click; each change is applied to the table at once (the callback) and remembered by the
app. STATUS and ID (`REQUIRED_COLUMNS`) stay ticked. `esc` closes it. A
chosen column still shows only when the terminal is wide enough for it (its priority).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from queue_tui.core.columns import COLUMN_BY_NAME
from queue_tui.state import CHOOSABLE_COLUMNS, REQUIRED_COLUMNS


class ColumnChooserScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [Binding("escape", "close", "Close")]
    AUTO_FOCUS = "#column-list"

    DEFAULT_CSS = """
    ColumnChooserScreen {
        align: center middle;
    }
    ColumnChooserScreen > Vertical {
        width: 44;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    ColumnChooserScreen SelectionList {
        height: auto;
        max-height: 16;
    }
    """

    def __init__(
        self, chosen: Collection[str] | None, on_change: Callable[[list[str]], None]
    ) -> None:
        super().__init__()
        self._chosen = set(CHOOSABLE_COLUMNS if chosen is None else chosen) | REQUIRED_COLUMNS
        self._on_change = on_change

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Choose columns"
            yield SelectionList[str](
                *(
                    Selection(
                        COLUMN_BY_NAME[name].title
                        + (" (always)" if name in REQUIRED_COLUMNS else ""),
                        name,
                        name in self._chosen,
                        disabled=name in REQUIRED_COLUMNS,
                    )
                    for name in CHOOSABLE_COLUMNS
                ),
                id="column-list",
            )
            yield Static("space: show/hide  esc: close", classes="hint", markup=False)

    @on(SelectionList.SelectedChanged, "#column-list")
    def _changed(self, event: SelectionList.SelectedChanged) -> None:
        selected = set(event.selection_list.selected) | REQUIRED_COLUMNS
        self._on_change([name for name in CHOOSABLE_COLUMNS if name in selected])

    def action_close(self) -> None:
        self.dismiss(None)
