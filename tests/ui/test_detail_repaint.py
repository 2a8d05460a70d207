"""The detail pane repaints only the cells that changed when only its relative times
move (a generation in its first minute ticks every second), and the terminal still
ends up showing exactly the pane's new content."""

from __future__ import annotations

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from queue_tui.api.models import Generation, parse_generation
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.widgets.detail_pane import changed_span, render_generation
from tests.ui.conftest import DEMO_START, first_poll, make_app

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
        body = app.detail._body
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
        frame = [s.text for s in app.screen._compositor.render_strips()]
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
        assert app.detail._body.last_repaint is None
        assert app.detail.generation.model_name in app.detail.plain_text()


async def test_rows_rendered_one_by_one_match_the_whole_grid(
    clock: FakeClock, sim: QueueSimulator
) -> None:
    sim.add_row(processing_row("first-minute", DEMO_START - 20))
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        body = app.detail._body
        gens = [app.table.generations[g] for g in app.table.ordered_ids[:40]]
        gens += sim_rows(sim, "failed")[:10] + sim_rows(sim, "succeeded")[:10]
        notes = (("eta", "about 3m (p50 of flux-1-dev)"),)
        for gen in gens:
            body._content = render_generation(gen, clock.now, {}, notes)
            for width in (30, 78):
                whole = body._render_strips(width)
                body._row_lines, body._lines_width = {}, width
                assert body._render_strips(width, by_row=True) == whole, gen.generation_id


async def test_a_tick_renders_only_the_rows_that_changed(
    clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.add_row(processing_row("first-minute", DEMO_START - 20))
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert app.table.select_id("first-minute")
        await pilot.pause()
        body = app.detail._body
        rendered: list[object] = []
        original = body._to_strips

        def counting(renderable, width):
            rendered.append(renderable)
            return original(renderable, width)

        monkeypatch.setattr(body, "_to_strips", counting)
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
