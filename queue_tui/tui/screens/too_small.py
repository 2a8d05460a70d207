"""Shown instead of the dashboard while the terminal is too small to draw it.

Below `MIN_WIDTH` x `MIN_HEIGHT` the dashboard's layout cannot show a single row of the
table; rather than a garbled screen the user sees what size is needed. Polling goes on
underneath, so the data is current the moment the terminal grows again.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.content import Content
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static

MIN_WIDTH = 50
MIN_HEIGHT = 12


def is_too_small(size: Size) -> bool:
    return size.width < MIN_WIDTH or size.height < MIN_HEIGHT


def notice(size: Size) -> Content:
    return Content.assemble(
        ("terminal too small", "bold $warning"),
        f" — need at least {MIN_WIDTH}x{MIN_HEIGHT}\n(now {size.width}x{size.height})",
        ("\nenlarge the window, or q to quit", "$text-muted"),
    )


class TooSmallScreen(Screen[None]):
    """Dismisses itself as soon as the terminal is big enough again."""

    BINDINGS: ClassVar = [Binding("q", "app.quit", "Quit")]

    DEFAULT_CSS = """
    TooSmallScreen {
        background: $background;
    }
    TooSmallScreen Static {
        width: auto;
        max-width: 100%;
        text-align: center;
    }
    /* Toasts would cover the notice; they are still in the app's list afterwards. */
    TooSmallScreen Toast {
        display: none;
    }
    """

    def __init__(self, size: Size) -> None:
        super().__init__()
        self._message = Static(notice(size), id="too-small")

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield self._message

    def on_resize(self, event: Resize) -> None:
        self._message.update(notice(event.size))
        # A resize can arrive twice (as the current and as a background screen).
        if not is_too_small(event.size) and self.is_current:
            self.dismiss(None)

    @property
    def text(self) -> str:
        return notice(self.app.size).plain


def guard_size(app: App, size: Size | None = None) -> None:
    """Cover the screen with the notice while the terminal (`size`, default the app's)
    is too small. Call it on every resize of the app: the notice removes itself."""
    size = app.size if size is None else size
    if is_too_small(size) and not isinstance(app.screen, TooSmallScreen):
        app.push_screen(TooSmallScreen(size))
