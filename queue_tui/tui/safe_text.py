"""The only way hub text reaches the screen: cleaned, then wrapped as plain text.

Every string from the hub (model, prompt, error, URL, ids...) goes through
`queue_tui.sanitize.clean` and then into a `rich.text.Text` or a
`textual.content.Content` built with the plain constructors. Nothing here parses markup,
so a `[/]` or `[@click=...]` in a payload is shown literally and an escape sequence never
reaches the terminal.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.content import Content

from queue_tui.sanitize import clean, first_line, safe_url

__all__ = [
    "link_text",
    "safe_content",
    "safe_text",
    "toast_text",
]


def safe_text(
    value: Any,
    *,
    max_len: int | None = None,
    style: str | Style = "",
    multiline: bool = False,
    justify: str | None = None,
) -> Text:
    """A Rich `Text` of the cleaned value; one line (ellipsis when cropped) unless multiline."""
    return Text(
        clean(value, max_len=max_len, multiline=multiline),
        style=style,
        no_wrap=not multiline,
        overflow="fold" if multiline else "ellipsis",
        justify=justify,  # type: ignore[arg-type]
        end="",
    )


def safe_content(value: Any, style: str = "", *, max_len: int | None = None) -> Content:
    """A Textual `Content` of the cleaned value (one line); `style` may use $variables."""
    text = clean(value, max_len=max_len)
    return Content.styled(text, style) if style else Content(text)


def link_text(url: Any, *, style: str | Style = "") -> Text:
    """The URL as a terminal hyperlink when it is a clean http(s) URL, else plain text."""
    safe = safe_url(url)
    if safe is None:
        return safe_text(url, style=style, multiline=True)
    link_style = Style.parse(style) if isinstance(style, str) and style else style or Style()
    return Text(safe, style=link_style + Style(link=safe, underline=True), end="")


def toast_text(value: Any, *, max_len: int = 200) -> str:
    """A cleaned single line for `App.notify(..., markup=False)`."""
    return first_line(value, max_len=max_len) or clean(value, max_len=max_len)
