"""A tiny terminal screen model for the escape sequences Textual writes.

Enough of a terminal to check that a partial update leaves the screen as a full repaint
would: absolute cursor moves (`CSI row;col H`), SGR styles (`CSI ... m`, kept per cell
as the sequence of parameters since the last reset), OSC strings (skipped), text placed
by grapheme with its cell width. Like xterm, writing over either half of a double-width
character blanks the other half. Anything else (modes, other CSI) is ignored.
"""

from __future__ import annotations

import re

import pytest
from rich.cells import split_graphemes
from textual.drivers import headless_driver
from textual.drivers.headless_driver import HeadlessDriver

#: One cell: (grapheme, style). The right half of a wide character is (WIDE_TAIL, style).
Cell = tuple[str, str]
WIDE_TAIL = ""
BLANK: Cell = (" ", "")

_TOKEN = re.compile(
    r"\x1b\[(?P<csi>[0-9;?<>=]*)(?P<final>[@-~])"
    r"|\x1b\](?P<osc>.*?)(?:\x07|\x1b\\)"
    r"|(?P<ctl>[\x00-\x1f\x7f])"
    r"|(?P<text>[^\x00-\x1f\x7f]+)",
    re.DOTALL,
)


class Screen:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.cells: list[list[Cell]] = [[BLANK] * width for _ in range(height)]
        self.x = 0
        self.y = 0
        self.style = ""

    def feed(self, data: str) -> None:
        for match in _TOKEN.finditer(data):
            if match.group("final") is not None:
                self._csi(match.group("csi"), match.group("final"))
            elif match.group("text") is not None:
                self._text(match.group("text"))
            elif match.group("ctl") is not None:
                ctl = match.group("ctl")
                if ctl == "\n":
                    self.y = min(self.height - 1, self.y + 1)
                elif ctl == "\r":
                    self.x = 0

    def _csi(self, params: str, final: str) -> None:
        if final == "H":
            row, _, col = params.partition(";")
            self.y = int(row or 1) - 1
            self.x = int(col or 1) - 1
        elif final == "m":
            if params in ("", "0"):
                self.style = ""
            else:
                self.style = f"{self.style};{params}" if self.style else params

    def _place(self, grapheme: str, width: int) -> None:
        row = self.cells[self.y]
        x = self.x
        if x >= self.width:
            return
        last = min(self.width, x + width) - 1
        if row[x][0] == WIDE_TAIL and x > 0:
            row[x - 1] = BLANK  # wrote over the right half of a wide character
        if last + 1 < self.width and row[last + 1][0] == WIDE_TAIL:
            row[last + 1] = BLANK  # wrote over the left half of a wide character
        row[x] = (grapheme, self.style)
        if width == 2 and x + 1 < self.width:
            row[x + 1] = (WIDE_TAIL, self.style)

    def _text(self, text: str) -> None:
        spans, _ = split_graphemes(text)
        for start, end, width in spans:
            grapheme = text[start:end]
            if width == 0:
                # Combining marks join the previous cell.
                if 0 < self.x <= self.width:
                    char, style = self.cells[self.y][self.x - 1]
                    self.cells[self.y][self.x - 1] = (char + grapheme, style)
                continue
            self._place(grapheme, width)
            self.x += width

    def lines(self) -> list[str]:
        return ["".join(char for char, _ in row) for row in self.cells]

    def snapshot(self) -> list[list[Cell]]:
        return [list(row) for row in self.cells]


class CapturingDriver(HeadlessDriver):
    """Headless input, but the app draws to it as to a terminal."""

    output: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        CapturingDriver.output.append(data)


def capture_terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Everything the next `run_test` app writes to its (pretend) terminal."""
    written: list[str] = []
    monkeypatch.setattr(CapturingDriver, "output", written)
    monkeypatch.setattr(headless_driver, "HeadlessDriver", CapturingDriver)
    return written
