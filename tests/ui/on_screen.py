"""What the user sees, read through Textual's public API only.

`screen_lines` is the current screen as text, one string per terminal line, read from
`App.export_screenshot()` (the SVG Textual saves for a screenshot: each run of text is a
`<text>` element placed by its cell column and clipped to its line). A double-width
character takes two cells and shows once, as in `Strip.text`; blank cells are spaces.
`widget_lines`, `find` and `column_xs` read it too; what a cell links to or how it is
coloured is `Screen.get_style_at(x, y)`.

`toasts` is the text of every toast on the current screen (`Toast` widgets, as the
user reads them: the title, if any, on the first line). Toasts are only shown by an app
run with `run_test(notifications=True)`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from rich.cells import cell_len, split_graphemes
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget

from queue_tui.core.columns import COLUMN_BY_NAME

#: Rich's SVG export: cells are `0.61 * 20` pixels wide (`Console.export_svg`).
CELL_WIDTH = 20 * 0.61

_TEXT = re.compile(
    r'<text [^>]*?x="(?P<x>[0-9.e+-]+)"[^>]*?clip-path="url\(#[^)]*-line-(?P<line>\d+)\)"'
    r"[^>]*>(?P<text>.*?)</text>",
    re.DOTALL,
)


def screen_lines(app: App) -> list[str]:
    """The current screen, one string per line (`app.size.height` of them)."""
    width, height = app.size
    cells = [[" "] * width for _ in range(height)]
    for match in _TEXT.finditer(app.export_screenshot()):
        y = int(match["line"])
        x = round(float(match["x"]) / CELL_WIDTH)
        if y >= height:
            raise AssertionError(f"line {y} of a {height}-line screen: a newline reached it")
        # Rich ends each exported line with its newline; no cell can hold one.
        text = match["text"].removesuffix("\n")
        if "&" in text:  # spaces are written `&#160;`
            text = html.unescape(text.replace("&#160;", " "))
        row = cells[y]
        if text.isprintable() and text.isascii():  # one cell per character
            if x < width:
                end = min(width, x + len(text))
                row[x:end] = text[: end - x]
            continue
        spans, _ = split_graphemes(text)
        for start, end, size in spans:
            grapheme = text[start:end]
            if size == 0:
                if 0 < x <= width:
                    row[x - 1] += grapheme  # a combining mark joins its cell
                continue
            if x < width:
                row[x] = grapheme
                for tail in range(x + 1, min(width, x + size)):
                    row[tail] = ""  # the right half of a wide character
            x += size
    return ["".join(row) for row in cells]


def screen_text(app: App) -> str:
    """The current screen as plain text, line by line."""
    return "\n".join(screen_lines(app))


def widget_lines(app: App, widget: Widget) -> list[str]:
    """The lines of the screen `widget` covers, cropped to its columns."""
    region = widget.region
    lines = screen_lines(app)[region.y : region.bottom]
    return [_crop(line, region.x, region.right) for line in lines]


def find(app: App, text: str) -> tuple[int, int]:
    """The (x, y) cell where `text` starts on the screen (AssertionError if it is not)."""
    for y, line in enumerate(screen_lines(app)):
        index = line.find(text)
        if index >= 0:
            return cell_len(line[:index]), y
    raise AssertionError(f"{text!r} is not on the screen")


def column_xs(app: App, table: Widget, columns: Iterable[str]) -> dict[str, int]:
    """The x (in `table`) of each column's title on the table's header line, as drawn."""
    header = widget_lines(app, table)[0]
    xs = {}
    for column in columns:
        title = re.escape(COLUMN_BY_NAME[column].title)
        match = re.search(rf"(?<!\S){title}(?!\S)", header)
        assert match is not None, f"no {column} column in {header!r}"
        xs[column] = cell_len(header[: match.start()])
    return xs


def column_x(app: App, table: Widget, column: str) -> int:
    """`column_xs` of one column."""
    return column_xs(app, table, [column])[column]


def toasts(app: App) -> list[str]:
    """The text of each toast on the current screen, oldest first."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


async def toasts_shown(pilot: Pilot) -> list[str]:
    """`toasts`, once the app has shown the notifications it was given."""
    await pilot.pause()
    return toasts(pilot.app)


def _crop(line: str, start: int, end: int) -> str:
    """Cells [start, end) of a line from `screen_lines`."""
    out, x = [], 0
    for char in line:
        if start <= x < end:
            out.append(char)
        x += cell_len(char)
    return "".join(out)
