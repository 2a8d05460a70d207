"""Resizing the terminal: down to 60x15 and back, absurd sizes, screens on top.

Below 50x12 the dashboard cannot show a single row, so a notice saying what size is
needed covers it (`TooSmallScreen`); polling goes on underneath and the dashboard comes
back, with the user's place, as soon as the terminal is big enough.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.tui.screens.help import HelpScreen
from queue_tui.tui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen
from tests.ui.conftest import first_poll, make_app, poll
from tests.ui.on_screen import screen_lines as lines_of

BIG = (120, 36)


def screen_lines(pilot: Pilot) -> list[str]:
    return lines_of(pilot.app)


async def resize(pilot: Pilot, width: int, height: int) -> None:
    await pilot.resize_terminal(width, height)
    await pilot.pause()
    await pilot.pause()


def too_small(pilot: Pilot) -> bool:
    return isinstance(pilot.app.screen, TooSmallScreen)


async def test_down_to_60x15_and_back_keeps_a_usable_dashboard(
    clock: FakeClock, sim: QueueSimulator
):
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=BIG) as pilot:
        await first_poll(pilot)
        await pilot.press("down", "down", "down")
        selected = app.table.cursor_id
        for size in [(100, 30), (80, 24), (60, 15), (80, 24), BIG, (60, 15), BIG]:
            await resize(pilot, *size)
            assert app.is_running and not too_small(pilot), size
            lines = screen_lines(pilot)
            assert len(lines) == size[1] and all(len(line) <= size[0] for line in lines)
            text = "\n".join(lines)
            assert "STATUS" in text, f"the table header at {size}"
            # At least a few rows of the table are on screen, not just its header.
            assert app.table.size.height - 1 >= 3, size
            assert "● live" in app.status_bar.text
            assert app.table.cursor_id == selected, "the selection survives"
            clock.advance(3)
            await poll(pilot)
            assert app.table.cursor_id == selected


@pytest.mark.parametrize("size", [(40, 10), (49, 30), (120, 11), (1, 1), (10, 3)])
async def test_an_absurd_size_shows_what_is_needed_and_the_dashboard_comes_back(
    clock: FakeClock, sim: QueueSimulator, size: tuple[int, int]
):
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=BIG) as pilot:
        await first_poll(pilot)
        await pilot.press("down")
        selected = app.table.cursor_id
        await resize(pilot, *size)
        assert too_small(pilot)
        text = app.screen.text  # type: ignore[attr-defined]
        assert f"terminal too small — need at least {MIN_WIDTH}x{MIN_HEIGHT}" in text
        assert f"(now {size[0]}x{size[1]})" in text
        if size[0] >= 40 and size[1] >= 5:
            shown = " ".join(" ".join(screen_lines(pilot)).split())
            assert "terminal too small" in shown and f"{MIN_WIDTH}x{MIN_HEIGHT}" in shown
        # Polling goes on underneath.
        seen = app.polls
        clock.advance(5)
        await poll(pilot)
        assert app.polls > seen
        await resize(pilot, *BIG)
        assert not too_small(pilot)
        assert app.screen is app.table.screen
        assert app.table.cursor_id == selected


async def test_the_notice_follows_the_size_and_only_one_is_ever_pushed(
    clock: FakeClock, sim: QueueSimulator
):
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=BIG) as pilot:
        await first_poll(pilot)
        for size in [(40, 10), (30, 8), (45, 11), (MIN_WIDTH - 1, MIN_HEIGHT)]:
            await resize(pilot, *size)
            assert too_small(pilot)
            shown = " ".join(" ".join(screen_lines(pilot)).split())
            assert f"(now {size[0]}x{size[1]})" in shown
        assert sum(isinstance(s, TooSmallScreen) for s in app.screen_stack) == 1
        await resize(pilot, MIN_WIDTH, MIN_HEIGHT)  # exactly the minimum is enough
        assert not too_small(pilot)
        assert "STATUS" in "\n".join(screen_lines(pilot))


async def test_starting_in_a_tiny_terminal(clock: FakeClock, sim: QueueSimulator):
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=(40, 10)) as pilot:
        await first_poll(pilot)
        await pilot.pause()
        assert too_small(pilot)
        await resize(pilot, 80, 24)
        assert app.screen is app.table.screen
        assert app.table.row_count > 0


async def test_q_quits_from_the_notice(clock: FakeClock, sim: QueueSimulator):
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=BIG) as pilot:
        await first_poll(pilot)
        await resize(pilot, 30, 8)
        assert too_small(pilot)
        await pilot.press("q")
    assert not app.is_running


@pytest.mark.parametrize("opener", ["question_mark", "enter"])
async def test_shrinking_under_help_or_detail_returns_to_it(
    clock: FakeClock, sim: QueueSimulator, opener: str
):
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=BIG) as pilot:
        await first_poll(pilot)
        await pilot.press(opener)
        on_top = app.screen
        assert on_top is not app.table.screen
        if opener == "question_mark":
            assert isinstance(on_top, HelpScreen)
        await resize(pilot, 60, 15)
        assert app.screen is on_top
        await resize(pilot, 40, 10)
        assert too_small(pilot)
        await resize(pilot, 60, 15)
        assert app.screen is on_top, "back to the screen the user had open"
        await resize(pilot, *BIG)
        await pilot.press("escape")
        assert app.screen is app.table.screen


async def test_resizing_while_the_hub_fails(clock: FakeClock, sim: QueueSimulator):
    from tests.ui.test_faults_ui import fault_app, status

    app, hub = fault_app(clock, sim)
    async with app.run_test(size=BIG) as pilot:
        await first_poll(pilot)
        hub.fault = status(500, b"<html>oops</html>")
        await poll(pilot)
        for size in [(60, 15), (50, 12), (40, 10), (80, 24), (200, 60), (60, 15)]:
            await resize(pilot, *size)
            assert app.is_running
            if not too_small(pilot):
                fault = app.status_bar.fault_text
                assert fault.startswith("✖ hub error 500") and "retrying" in fault
                assert len(fault) <= size[0] - 2


async def test_toasts_do_not_cover_the_notice(clock: FakeClock, sim: QueueSimulator):
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=BIG, notifications=True) as pilot:
        await first_poll(pilot)
        app.notify("toast before shrinking", timeout=30)
        await resize(pilot, 40, 10)
        app.notify("toast while too small", timeout=30)
        await pilot.pause()
        shown = " ".join(screen_lines(pilot))
        assert "terminal too small" in shown and "(now 40x10)" in shown
        assert "toast" not in shown
        await resize(pilot, *BIG)
        shown = " ".join(screen_lines(pilot))
        assert "toast before shrinking" in shown and "toast while too small" in shown
