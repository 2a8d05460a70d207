"""The footer: Textual's, plus a "read-only" badge and a shorter key list when narrow.

At 80 columns every shown key does not fit: below `NARROW_WIDTH` the keys that are
obvious or automatic step aside (`enter` opens the detail; `r` refreshes, which polling
does anyway; `p` pauses, which the status bar reports; `ctrl+p` opens the palette) so
Cancel, Stats, Help and "esc Back to table" stay visible. They all still work, and `?`
lists them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.events import Resize
from textual.widgets import Footer, Label
from textual.widgets._footer import FooterKey

NARROW_WIDTH = 120
#: Actions whose footer key is hidden below NARROW_WIDTH.
NARROW_HIDDEN = frozenset({"refresh", "select_cursor", "toggle_pause", "command_palette"})


class DashboardFooter(Footer):
    DEFAULT_CSS = """
    DashboardFooter.-narrow FooterKey.-narrow-hidden {
        display: none;
    }
    DashboardFooter .read-only-badge {
        width: auto;
        height: 1;
        padding: 0 1;
        margin-right: 1;
        background: $warning 30%;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, *, read_only: bool = False, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        if self.read_only and self._bindings_ready:
            yield Label(Content("read-only"), classes="read-only-badge")
        for widget in super().compose():
            if isinstance(widget, FooterKey) and (
                widget.action in NARROW_HIDDEN or widget.has_class("-command-palette")
            ):
                widget.add_class("-narrow-hidden")
            yield widget

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")
