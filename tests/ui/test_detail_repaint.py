"""The detail pane repaints only the cells that changed when only its relative times
move (a generation in its first minute ticks every second), and the terminal still
ends up showing exactly the pane's new content."""

from __future__ import annotations

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.strip import Strip

from queue_tui.api.models import Generation, parse_generation
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.widgets.detail_pane import (
    DetailBody,
    DetailGrid,
    changed_span,
    render_generation,
)
from tests.ui.conftest import DEMO_START, first_poll, make_app

from .on_screen import screen_lines
from .terminal_model import Screen, capture_terminal

SIZE = (80, 24)
BOLD = Style(bold=True)


def strip(*parts: str | tuple[str, Style]) -> Strip:
    return Strip([Segment(p) if isinstance(p, str) else Segment(*p) for p in parts])


@pytest.mark.parametrize(
    ("old", "new", "span"),
    [
        (strip("started  (31s ago)"), strip("started  (31s ago)"), None),
        (strip("started  (31s ago)"), strip("started  (32s ago)"), (11, 12)),
        (strip("run ", ("31s", BOLD), "   "), strip("run ", ("29s", BOLD), "   "), (4, 6)),
        # Same text, another style: that cell changed too.
        (strip("run ", ("31s", BOLD)), strip("run ", "31s"), (4, 7)),
        (strip("59s ago "), strip("1m ago  "), (0, 7)),
        # A wide character at either edge of the change is included whole.
        (strip("ab中cd"), strip("ab文cd"), (2, 4)),
        (strip("x中1y"), strip("x中2y"), (3, 4)),
        (strip("x1中y"), strip("x2文y"), (1, 4)),
    ],
)
def test_changed_span(old: Strip, new: Strip, span: tuple[int, int] | None) -> None:
    assert changed_span(old, new) == span


def sim_rows(sim: QueueSimulator, status: str) -> list[Generation]:
    return [parse_generation(r) for r in sim.list(status=status)]


def processing_row(gid: str, started: float) -> dict[str, object]:
    return {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "processing",
        "enqueued_at": int(DEMO_START - 4000),  # the oldest row: first in queue order
        "started_at": int(started),
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "prompt": "a lighthouse at dusk, 模型 and 😀 in the prompt",
    }


async def test_a_ticking_run_time_repaints_a_few_cells(
    clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = capture_terminal(monkeypatch)
    sim.add_row(processing_row("first-minute", DEMO_START - 20))
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert app.table.select_id("first-minute")
        await pilot.pause()
        body = app.detail.query_one(DetailBody)
        before = app.detail.plain_text()
        assert "20s ago" in before
        painted = len(terminal)
        clock.advance(1)
        app.tick()
        await pilot.pause()
        after = app.detail.plain_text()
        tick_output = "".join(terminal[painted:])
        screen = Screen(*SIZE)
        screen.feed("".join(terminal))
        frame = screen_lines(app)
    assert "21s ago" in after and after != before
    # Only the started line ("(21s ago)") and the run time ("21s") changed.
    assert body.last_repaint is not None and 1 <= len(body.last_repaint) <= 2
    assert all(region.width <= 3 for region in body.last_repaint)
    assert "lighthouse" not in tick_output and "product-shots" not in tick_output
    # What the terminal shows is the new frame, cell for cell.
    assert screen.lines() == frame[: SIZE[1]]


async def test_another_selection_repaints_the_whole_pane(
    clock: FakeClock, sim: QueueSimulator
) -> None:
    sim.add_row(processing_row("first-minute", DEMO_START - 20))
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert app.table.select_id("first-minute")
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert app.detail.generation.generation_id != "first-minute"
        assert app.detail.query_one(DetailBody).last_repaint is None
        assert app.detail.generation.model_name in app.detail.plain_text()


class BodiesApp(App[None]):
    """A detail body per grid, in a column 30 cells wide and in one 78 cells wide (each
    body 100 lines high, more than any grid here takes: no measuring for the layout)."""

    CSS = """
    VerticalScroll { width: auto; }
    DetailBody { height: 100; }
    .w30 > DetailBody { width: 30; }
    .w78 > DetailBody { width: 78; }
    """

    def __init__(self, grids: list[DetailGrid]) -> None:
        super().__init__()
        self.grids = grids

    def compose(self) -> ComposeResult:
        with Horizontal():
            for width in (30, 78):
                with VerticalScroll(classes=f"w{width}"):
                    for grid in self.grids:
                        yield DetailBody(grid)


def shown(body: DetailBody) -> list[Strip]:
    """Every line the body draws (`render_line`, Textual's Line API)."""
    return [body.render_line(y) for y in range(body.size.height)]


async def test_rows_rendered_one_by_one_match_the_whole_grid(
    clock: FakeClock, sim: QueueSimulator
) -> None:
    """A times-only update (`set_content(..., layout=False)`) renders the grid row by row,
    each row on its own the first time after a full render; the lines it then shows are
    the lines the whole grid rendered at once."""
    sim.add_row(processing_row("first-minute", DEMO_START - 20))
    gens = sim_rows(sim, "processing") + sim_rows(sim, "queued")
    gens = gens[:40] + sim_rows(sim, "failed")[:10] + sim_rows(sim, "succeeded")[:10]
    notes = (("eta", "about 3m (p50 of flux-1-dev)"),)
    grids = [render_generation(gen, clock.now, {}, notes) for gen in gens]
    app = BodiesApp(grids)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        bodies = list(app.query(DetailBody))
        assert len(bodies) == 2 * len(grids)
        for body, gen in zip(bodies, gens * 2, strict=True):
            assert body.size.width in (30, 78)
            whole = shown(body)  # the whole grid, rendered at once
            assert whole[-1].text.strip() == "", "the grid fits in the body"
            body.set_content(body.content, layout=False)  # row by row
            where = (body.size.width, gen.generation_id)
            assert body.last_repaint == [], where
            assert shown(body) == whole, where


async def test_a_tick_renders_only_the_rows_that_changed(
    clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.add_row(processing_row("first-minute", DEMO_START - 20))
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert app.table.select_id("first-minute")
        await pilot.pause()
        rendered: list[object] = []
        original = DetailGrid.row_renderable

        def counting(label, value):
            rendered.append(label)
            return original(label, value)

        # Each row rendered on its own is laid out by `DetailGrid.row_renderable`.
        monkeypatch.setattr(DetailGrid, "row_renderable", staticmethod(counting))
        for second in range(1, 4):
            rendered.clear()
            clock.advance(1)
            app.tick()
            await pilot.pause()
            assert f"{20 + second}s ago" in app.detail.plain_text()
            # The first tick after a full render renders every row once; then only
            # "started" and "run time" change.
            if second > 1:
                assert len(rendered) == 2
