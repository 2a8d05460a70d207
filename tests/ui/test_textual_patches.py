"""The crop fix for Textual's partial line updates (`queue_tui.tui.textual_patches`).

Each update is applied to a terminal screen model (`terminal_model.Screen`) that
already shows the previous frame; the result must be the screen a full-line update of
the new frame gives, cell by cell (character and style), while writing fewer bytes.
"""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from queue_tui.tui import textual_patches
from queue_tui.tui.textual_patches import crop_cells, render_segments

from .on_screen import screen_lines
from .terminal_model import Screen, capture_terminal

# Only the Textual source the fix knows is patched; on any other the fix stays off (a
# logged event the benchmarks print), and these tests have nothing to check.
pytestmark = pytest.mark.skipif(
    not textual_patches.crop_fix_applies(),
    reason="this Textual's ChopsUpdate.render_segments is not the one the crop fix knows",
)

WIDTH = 80
CONSOLE = Console(color_system="truecolor", force_terminal=True, width=WIDTH)
GREY = Style(color="#aaaaaa", bgcolor="#202020")
BOLD = Style(bold=True, color="#ffcc00", bgcolor="#202020")


def original_render_segments():
    textual_patches.install_crop_fix()
    return textual_patches.originals["render_segments"]


def strip(*parts: tuple[str, Style]) -> Strip:
    return Strip([Segment(text, style) for text, style in parts])


def line_with(cell: str, prefix: str = "", *, width: int = 40) -> Strip:
    """A table-like line: a prefix, a styled cell, padding to `width` cells."""
    s = strip((prefix, GREY), (cell, BOLD))
    return s.extend_cell_length(width, GREY)


def update(lines: list[dict[int, Strip]], spans: list[tuple[int, int, int]]) -> ChopsUpdate:
    """A ChopsUpdate over `lines` (each {x: strip}); chop ends from the strips."""
    chop_ends = [[x + s.cell_length for x, s in sorted(line.items())] for line in lines]
    return ChopsUpdate(lines, spans, chop_ends)


def full_spans(lines: list[dict[int, Strip]]) -> list[tuple[int, int, int]]:
    return [(y, 0, WIDTH) for y in range(len(lines))]


def screen_after(before: list[dict[int, Strip]], *updates: str) -> Screen:
    """The previous frame drawn in full, then each update's bytes."""
    screen = Screen(WIDTH, len(before))
    screen.feed(original_render_segments()(update(before, full_spans(before)), CONSOLE))
    for data in updates:
        screen.feed(data)
    return screen


def check_partial(
    before: list[dict[int, Strip]],
    after: list[dict[int, Strip]],
    spans: list[tuple[int, int, int]],
) -> tuple[str, str]:
    """Patched partial update == full-line update, on the screen; returns both outputs
    (patched, Textual's own)."""
    expected = full_screen(before, after)
    patched = render_segments(update(after, spans), CONSOLE)
    assert screen_after(before, patched).snapshot() == expected.snapshot()
    unpatched = original_render_segments()(update(after, spans), CONSOLE)
    return patched, unpatched


def full_screen(before: list[dict[int, Strip]], after: list[dict[int, Strip]]) -> Screen:
    return screen_after(
        before, original_render_segments()(update(after, full_spans(after)), CONSOLE)
    )


def test_a_changed_cell_is_written_from_its_own_column() -> None:
    prefix = "▶ processing  flux-dev       image  "
    before = [{0: line_with("12s", prefix), 40: line_with("x", width=40)}]
    after = [{0: line_with("13s", prefix), 40: line_with("x", width=40)}]
    x1 = len(prefix)
    patched, unpatched = check_partial(before, after, [(0, x1, x1 + 3)])
    assert screen_after(before, unpatched).snapshot() == full_screen(before, after).snapshot()
    assert f"\x1b[1;{x1 + 1}H" in patched
    assert "processing" not in patched and "processing" in unpatched
    assert len(patched.encode()) < len(unpatched.encode()) / 2


def test_several_lines_and_chops() -> None:
    before = [
        {0: line_with("aaa", "left "), 40: line_with("bbb", "right ")},
        {0: line_with("ccc", "left "), 40: line_with("ddd", "right ")},
        {0: line_with("eee", "left "), 40: line_with("fff", "right ")},
    ]
    after = [
        {0: line_with("AAA", "left "), 40: line_with("BBB", "right ")},
        {0: line_with("ccc", "left "), 40: line_with("ddd", "right ")},
        {0: line_with("EEE", "left "), 40: line_with("fff", "right ")},
    ]
    # Line 0: one span across both chops; line 2: the span inside the first chop.
    patched, unpatched = check_partial(before, after, [(0, 5, 49), (2, 5, 8)])
    assert len(patched.encode()) < len(unpatched.encode())


@pytest.mark.parametrize(
    ("before_text", "after_text", "x1", "x2", "cuts_wide"),
    [
        # The span starts on the right half of 中 (cells 2-3): 中 is sent whole.
        ("ab中def", "ab中XYZ", 3, 7, True),
        # The span ends on the left half of 文 (cells 4-5).
        ("abcd文ef", "abXY文ef", 2, 5, True),
        # Both edges cut a wide character; emoji and a ZWJ family among them.
        ("a😀bcd中e", "a😀XYZ中e", 2, 7, True),
        ("x👨‍👩‍👧y1234", "x👨‍👩‍👧y5678", 2, 8, True),
        # A combining mark just inside the edge stays with its letter.
        ("abe\u0301cdef", "abe\u0301XYZf", 2, 6, False),
    ],
)
def test_wide_characters_at_the_edges_keep_the_screen_right(
    before_text: str, after_text: str, x1: int, x2: int, cuts_wide: bool
) -> None:
    before = [{0: line_with(before_text, width=WIDTH)}]
    after = [{0: line_with(after_text, width=WIDTH)}]
    check_partial(before, after, [(0, x1, x2)])
    # A naive crop to the span (Strip.crop) turns a cut wide character into spaces,
    # which blanks it on a terminal: the model must see that as a different screen.
    naive = f"\x1b[1;{x1 + 1}H" + after[0][0].crop(x1, x2).render(CONSOLE)
    naive_ok = screen_after(before, naive).snapshot() == full_screen(before, after).snapshot()
    assert naive_ok is not cuts_wide


def test_crop_cells_widens_to_whole_graphemes() -> None:
    s = strip(("ab", GREY), ("中文", BOLD), ("cd", GREY))
    first, segments = crop_cells(s, 3, 5)  # right half of 中, left half of 文
    assert first == 2
    assert "".join(seg.text for seg in segments) == "中文"
    first, segments = crop_cells(s, 0, 2)
    assert (first, "".join(seg.text for seg in segments)) == (0, "ab")
    first, segments = crop_cells(s, 6, 8)
    assert (first, "".join(seg.text for seg in segments)) == (6, "cd")


def test_install_is_idempotent_and_replaces_the_known_function() -> None:
    from textual._compositor import ChopsUpdate as Chops

    assert textual_patches.install() == {"crop_fix": True}
    assert textual_patches.install() == {"crop_fix": True}
    assert Chops.render_segments is render_segments
    assert textual_patches.originals["render_segments"] is not render_segments


def test_install_skips_a_function_it_does_not_know(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def changed_upstream(self, console):  # a Textual whose function differs
        return ""

    monkeypatch.setattr(textual_patches, "_installed", {})
    monkeypatch.setattr(ChopsUpdate, "render_segments", changed_upstream)
    with caplog.at_level("INFO", logger=textual_patches.__name__):
        assert textual_patches.install_crop_fix() is False
    assert ChopsUpdate.render_segments is changed_upstream
    assert "not the known one" in caplog.text

    # And the known one is replaced (so the check above is not vacuous).
    monkeypatch.setattr(ChopsUpdate, "render_segments", original_render_segments())
    assert textual_patches.install_crop_fix() is True
    assert ChopsUpdate.render_segments is render_segments


# -- through a running app ------------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return capture_terminal(monkeypatch)


class TickingLine(Widget):
    """One line per row, like a table: a long prefix with wide characters, then a
    counter; a tick refreshes only the counter's cells."""

    DEFAULT_CSS = "TickingLine { height: 4; }"
    COUNTER_X = 30

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def render_line(self, y: int) -> Strip:
        prefix = f"row {y} 模型 flux 😀 image ".ljust(self.COUNTER_X - 3)
        return line_with(f"{self.count + y:>4}s", prefix, width=self.size.width)

    def tick(self) -> None:
        self.count += 7
        self.refresh(Region(self.COUNTER_X - 1, 0, 6, 4))


class TickingApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TickingLine()


async def test_a_running_app_writes_only_the_ticking_cells(terminal: list[str]) -> None:
    textual_patches.install()
    app = TickingApp()
    async with app.run_test(size=(WIDTH, 6)) as pilot:
        await pilot.pause()
        painted = len(terminal)
        widget = app.query_one(TickingLine)
        for _ in range(3):
            widget.tick()
            await pilot.pause()
        ticks = "".join(terminal[painted:])
        screen = Screen(WIDTH, 6)
        screen.feed("".join(terminal))
        frame = screen_lines(app)
    assert ticks, "the ticks were written"
    assert "模型" not in ticks and "row" not in ticks
    assert screen.lines()[:4] == frame[:4]
