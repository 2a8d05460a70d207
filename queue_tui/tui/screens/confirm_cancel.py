"""Confirmations before an action changes something on the hub.

`del` / `C` on one row: "Cancel this generation?" before the DELETE goes out. On marked
rows (and `R`, resubmit): `ConfirmManyScreen`, "Cancel 7 generations?", listing the
first few (model, short id, status), "and N more", and the rows left out.

`y` (or the red button) confirms; `n`, `esc` or the other button keeps them. The focus
starts on "Keep", so an absent-minded `enter` never acts. Every hub string is cleaned
and shown as `Text`.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from queue_tui.api.models import Generation
from queue_tui.core.actions import Kind, Plan
from queue_tui.core.columns import status_label
from queue_tui.core.resubmit import rebuild_problem, resubmit_body
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


#: Lines of the screen the many-rows dialog keeps for its border, gap and buttons.
MANY_CHROME = 6


def describe_plan(plan: Plan) -> Text:
    """The rows an action on many rows acts on: the first few, "and N more", then the
    rows left out and those the view hides."""
    rows, more = plan.preview()
    text = Text(end="")
    model_width = max((len(r.model) for r in rows), default=0)
    for i, row in enumerate(rows):
        if i:
            text.append("\n")
        text.append(row.model.ljust(model_width), style="bold")
        text.append(f"  {row.short_id}  ", style="dim")
        text.append(row.status)
    if more:
        text.append(f"\n… and {more} more", style="italic")
    notes = plan.notes()
    if notes:
        text.append("\n")
        for note in notes:
            text.append(f"\n{note}", style="dim")
    return text


#: Characters of one line of the request body shown (a prompt can be pages long).
BODY_LINE_MAX = 2000


def describe_resubmit(plan: Plan, retry_supported: bool | None) -> Text:
    """`describe_plan`, then how the request goes and the exact body of the first one
    (`resubmit_body`, what `POST /api/ai/queue` gets)."""
    text = describe_plan(plan)
    first = plan.targets[0]
    if retry_supported:
        how = (
            "This hub has the retry endpoint: each goes as POST /api/ai/queue/{id}/retry "
            "and the hub repeats the request itself. The first one's request:"
        )
    elif retry_supported is None:
        how = (
            "A hub with the retry endpoint gets POST /api/ai/queue/{id}/retry instead; "
            "otherwise each is enqueued again. The first one's body (POST /api/ai/queue):"
        )
    else:
        how = (
            "This hub has no retry endpoint: each is enqueued again, rebuilt from its "
            "row. The first one's body (POST /api/ai/queue):"
        )
    text.append(f"\n\n{how}\n")
    body = json.dumps(resubmit_body(first), indent=2, ensure_ascii=False)
    text.append(
        "\n".join(clean(line, max_len=BODY_LINE_MAX) for line in body.splitlines()),
        style="bold",
    )
    problem = rebuild_problem(first)
    if problem is not None and retry_supported is not True:
        text.append(f"\nIt cannot be enqueued again as it is: {problem}.", style="italic")
    return text


def many_title(plan: Plan) -> str:
    """ "Cancel 7 generations?" """
    verb = "Cancel" if plan.kind is Kind.CANCEL else "Resubmit"
    noun = "generation" if plan.count == 1 else "generations"
    count = "this" if plan.count == 1 and not plan.from_marks else str(plan.count)
    return f"{verb} {count} {noun}?"


def confirm_many(plan: Plan, body: Text) -> ConfirmManyScreen:
    """The confirmation of a plan, its words fitting the action."""
    if plan.kind is Kind.CANCEL:
        return ConfirmManyScreen(
            many_title(plan),
            body,
            f"Cancel {plan.count}",
            keep="Keep them" if plan.count > 1 else "Keep it",
            subtitle="y cancels · n / esc keeps " + ("them" if plan.count > 1 else "it"),
        )
    return ConfirmManyScreen(
        many_title(plan),
        body,
        f"Resubmit {plan.count}" if plan.count > 1 else "Resubmit",
        keep="Send nothing",
        subtitle="y resubmits · n / esc sends nothing",
    )


class ConfirmManyScreen(ModalScreen[bool]):
    """An action on one or more rows: dismisses with True to go ahead, False to keep.

    `body` says what happens (`describe_plan`, and for a resubmit the request); it
    scrolls when it is longer than the screen, the buttons stay in view."""

    BINDINGS: ClassVar = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No, keep them"),
    ]

    DEFAULT_CSS = """
    ConfirmManyScreen {
        align: center middle;
    }
    ConfirmManyScreen > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $error;
        border-title-align: center;
        border-subtitle-align: center;
        background: $surface;
        padding: 0 1;
    }
    ConfirmManyScreen #confirm-scroll {
        height: auto;
        margin-bottom: 1;
        scrollbar-size-vertical: 1;
    }
    ConfirmManyScreen #confirm-what {
        height: auto;
    }
    ConfirmManyScreen Horizontal {
        height: auto;
        align-horizontal: right;
    }
    ConfirmManyScreen Button {
        margin-left: 1;
    }
    """

    def __init__(self, title: str, body: Text, confirm: str, *, keep: str, subtitle: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm
        self.keep_label = keep
        self.subtitle = subtitle

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = self.subtitle
            with VerticalScroll(id="confirm-scroll"):
                yield Static(self.body, id="confirm-what")
            with Horizontal():
                yield Button(self.keep_label, id="keep")
                yield Button(self.confirm_label, variant="error", id="go")

    def on_mount(self) -> None:
        self._fit()
        self.query_one("#keep", Button).focus()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # What is left of the screen once the border, the gap and the buttons have theirs.
        scroll = self.query_one("#confirm-scroll", VerticalScroll)
        scroll.styles.max_height = max(3, self.app.size.height - MANY_CHROME)

    @property
    def text(self) -> str:
        """The body as plain text (tests, tools)."""
        return self.body.plain

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "go")

    def action_answer(self, go: bool) -> None:
        self.dismiss(go)
