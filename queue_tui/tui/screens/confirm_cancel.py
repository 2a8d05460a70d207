"""`del` / `C`: "Cancel this generation?" before the DELETE goes out.

`y` (or the red button) confirms; `n`, `esc` or the other button keeps it. The focus
starts on "Keep it", so an absent-minded `enter` never cancels anything. Every hub
string is cleaned and shown as `Text`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from queue_tui.api.models import Generation
from queue_tui.core.columns import status_label
from queue_tui.core.timefmt import fmt_coarse
from queue_tui.sanitize import clean

PROMPT_MAX = 160


def describe(gen: Generation, now: float) -> Text:
    """Model, id, status and age, then the prompt: enough to be sure it is the right one."""
    text = Text(end="")
    text.append(clean(gen.model_name, max_len=60), style="bold")
    text.append(f"  {clean(gen.media_type, max_len=10)}", style="dim")
    text.append(f"\n{clean(gen.generation_id, max_len=80)}", style="dim")
    age = gen.age_seconds(now)
    status = status_label(gen.status, max_len=30)
    text.append(f"\n{status}" + (f", enqueued {fmt_coarse(age)} ago" if age is not None else ""))
    if gen.prompt:
        text.append(f"\n“{clean(gen.prompt, max_len=PROMPT_MAX)}”", style="italic")
    return text


class ConfirmCancelScreen(ModalScreen[bool]):
    """Dismisses with True to cancel, False to keep."""

    BINDINGS: ClassVar = [
        Binding("y", "answer(True)", "Yes, cancel it"),
        Binding("n,escape", "answer(False)", "No, keep it"),
    ]

    DEFAULT_CSS = """
    ConfirmCancelScreen {
        align: center middle;
    }
    ConfirmCancelScreen > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $error;
        border-title-align: center;
        border-subtitle-align: center;
        background: $surface;
        padding: 0 1;
    }
    ConfirmCancelScreen #confirm-what {
        height: auto;
        margin-bottom: 1;
    }
    ConfirmCancelScreen Horizontal {
        height: auto;
        align-horizontal: right;
    }
    ConfirmCancelScreen Button {
        margin-left: 1;
    }
    """

    def __init__(self, gen: Generation, now: float) -> None:
        super().__init__()
        self.generation = gen
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Cancel this generation?"
            box.border_subtitle = "y cancels · n / esc keeps it"
            yield Static(describe(self.generation, self._now), id="confirm-what")
            with Horizontal():
                yield Button("Keep it", id="keep")
                yield Button("Cancel generation", variant="error", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "cancel")

    def action_answer(self, cancel: bool) -> None:
        self.dismiss(cancel)
