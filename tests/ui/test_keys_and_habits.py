"""Keys and habits (#13): what a user of htop, vim, less or a shell expects.

ctrl+l redraws (F clears the filters); `?` scrolls with the keys it lists; the command
palette offers each command once; a cancel (or a watched row finishing) leaves the view
where it was; paused, the screen holds still; `o` without a browser copies the URL and
says why; a token refused over plain http stops polling until the user acts.
"""

from __future__ import annotations

from typing import Any

import pytest

from queue_tui.config import Settings
from queue_tui.core.dashboard import DONE
from queue_tui.core.outcomes import EventsState
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import FROZEN_INTERVAL
from queue_tui.tui.app import QueueApp
from queue_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from queue_tui.tui.screens.help import HelpScreen, HelpScroll
from tests.ui.conftest import DEMO_START, first_poll, make_app, poll, queued_row, wait_until
from tests.ui.on_screen import screen_lines, screen_text, toasts_shown, widget_lines
from tests.ui.terminal_model import Screen, capture_terminal

SIZE = (120, 36)
URL = "https://hub.oxen.ai/api/repos/ox/product-shots/file/main/fox.png"


def add_queue_head(sim: QueueSimulator, n: int) -> list[str]:
    """`n` rows older than any of the demo's: the head of the queue, in this order."""
    gids = [f"head-{i:02d}" for i in range(n)]
    for i, gid in enumerate(gids):
        sim.add_row(queued_row(gid, DEMO_START - 7200 + i))
    return gids


# -- ctrl+l redraws; F clears the filters ---------------------------------------------------


class TestRedraw:
    async def test_ctrl_l_rewrites_every_cell_and_keeps_the_filters(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        terminal = capture_terminal(monkeypatch)
        app = make_app(clock=clock, sim=sim, media_type="video")
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await pilot.press("slash", *"veo")  # from inside a filter too
            await pilot.pause()
            written = len(terminal)
            await pilot.press("ctrl+l")
            await pilot.pause()
            # What ctrl+l wrote alone, on a blank (or garbled) terminal, is the screen.
            redraw = Screen(*SIZE)
            redraw.feed("".join(terminal[written:]))
            assert redraw.lines() == screen_lines(app)
            assert app.filters.media_type == "video" and app.filters.search == "veo"
            assert "video" in app.status_bar.text

    async def test_clear_all_filters_is_F_and_in_the_palette(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim, media_type="video")
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await pilot.press("ctrl+p", *"clear all filters")
            await wait_until(
                pilot, lambda: "Reset every filter (F)" in screen_text(app), "the command"
            )
            await pilot.press("enter")
            await wait_until(pilot, lambda: not app.filters.active(), "the filters cleared")
            await pilot.press("slash", *"veo", "escape")
            assert app.filters.active()
            await pilot.press("F")
            await wait_until(pilot, lambda: not app.filters.active(), "F clearing them")


# -- ? scrolls ------------------------------------------------------------------------------


def help_lines(app: QueueApp) -> list[str]:
    """The help box's content lines, as on screen (without its borders)."""
    box = app.screen.query_one(HelpScroll)
    # (Without the border, and the scrollbar's half-block ends.)
    return [line.strip(" │▁▂▃▄▅▆▇█") for line in widget_lines(app, box)[1:-1]]


class TestHelp:
    @pytest.mark.parametrize("size", [(80, 24), (60, 20)])
    async def test_help_scrolls_with_the_keys_it_lists(
        self, clock: FakeClock, sim: QueueSimulator, size: tuple[int, int]
    ):
        app = make_app(clock=clock, sim=sim)
        # Each scroll lands at once: Pilot waits out every animation after a key, and
        # where the keys take the list is the point here, not Textual's smooth scrolling.
        app.animation_level = "none"
        async with app.run_test(size=size) as pilot:
            await first_poll(pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.pause()

            def top() -> str:
                return help_lines(app)[0]

            def shows(text: str) -> bool:
                return any(text in line for line in help_lines(app))

            assert top() == "Queue"
            assert not shows("quit"), "the list is longer than the screen"
            for down, up in (("j", "k"), ("down", "up"), ("pagedown", "pageup")):
                await pilot.press(down)
                await wait_until(pilot, lambda: top() != "Queue", f"{down} scrolling")
                await pilot.press(up)
                await wait_until(pilot, lambda: top() == "Queue", f"{up} scrolling back")
            for end, home in (("G", "g"), ("end", "home")):
                await pilot.press(end)
                await wait_until(pilot, lambda: shows("quit"), f"{end}: the last keys")
                assert shows("redraw the screen")
                await pilot.press(home)
                await wait_until(pilot, lambda: top() == "Queue", f"{home}: the first")
            await pilot.press("q")
            assert not isinstance(app.screen, HelpScreen)
            assert app.is_running


# -- the command palette --------------------------------------------------------------------


class TestPalette:
    async def test_each_command_is_offered_once(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert len(titles) == len(set(titles))
            assert "Theme" in titles and "Switch theme" not in titles
            assert "Help" in titles and "Keys" not in titles
            assert "Clear all filters" in titles
            await pilot.press("ctrl+p", *"theme")
            await wait_until(
                pilot, lambda: "Change the current theme" in screen_text(app), "the command"
            )
            assert "Pick a colour theme" not in screen_text(app)


# -- the view stays where the user was ------------------------------------------------------


class TestViewStays:
    async def test_cancelling_rows_one_after_another_is_not_a_chase(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        head = add_queue_head(sim, 40)
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(80, 24)) as pilot:
            await first_poll(pilot)
            table = app.table
            await pilot.press(*["j"] * 25, *["k"] * 6)  # scrolled down, mid-screen
            assert table.cursor_id == head[19] and table.scroll_y > 0
            line, top = table.cursor_row, table.scroll_y
            for n in range(3):
                gid = table.cursor_id
                await pilot.press("C")
                assert isinstance(app.screen, ConfirmCancelScreen)
                await pilot.press("y")
                await wait_until(
                    pilot, lambda gid=gid: table.mark_of(gid).state == DONE, "the cancel"
                )
                assert table.ordered_ids.index(gid) > line, "it went to the finished rows"
                # The cursor kept its line, on the next row in flight; nothing scrolled.
                assert (table.cursor_row, table.scroll_y) == (line, top)
                assert table.cursor_id == head[20 + n]
                assert app.detail.generation.generation_id == head[20 + n]

    async def test_a_watched_row_that_finishes_leaves_the_cursor_on_its_line(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        head = add_queue_head(sim, 40)
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(80, 24)) as pilot:
            await first_poll(pilot)
            table = app.table
            await pilot.press(*["j"] * 25, *["k"] * 6)
            watched = table.cursor_id
            await pilot.press("w")
            line, top = table.cursor_row, table.scroll_y
            assert sim.cancel(watched)  # someone else cancels it on the hub
            for _ in range(5):  # resolution rounds follow the (frozen) clock
                if table.mark_of(watched).state == DONE:
                    break
                clock.advance(FROZEN_INTERVAL)
                await poll(pilot)
            assert table.cell_text(watched, "status") == "★ cancelled"
            assert (table.cursor_row, table.scroll_y) == (line, top)
            assert table.cursor_id == head[head.index(watched) + 1]


# -- paused, the screen holds still ---------------------------------------------------------


class TestPause:
    async def test_paused_the_rows_hold_still_and_resuming_shows_what_changed(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await wait_until(
                pilot, lambda: app.model.events_state is EventsState.LIVE, "the event stream"
            )
            await pilot.press("p")
            requests = app.poller.requests
            table = app.table
            in_flight = set(table.generations)
            before = widget_lines(app, table)
            # The event stream runs the demo hub: rows finish, the model learns it...
            clock.advance(180)
            await wait_until(pilot, lambda: app.model.changes_waiting > 0, "news from the stream")
            waiting = app.model.changes_waiting
            phrase = f"paused, {waiting} change{'s' if waiting > 1 else ''} waiting"
            await wait_until(pilot, lambda: phrase in app.status_bar.text, "the count")
            finished = {gid for gid in in_flight if app.model.is_finished(gid)}
            assert finished
            # ...and the screen holds still: no row, status or age changes, no request.
            app.tick()
            await pilot.pause()
            assert widget_lines(app, table) == before
            assert all(table.mark_of(gid).state != DONE for gid in finished)
            assert app.poller.requests == requests

            await pilot.press("p")
            assert "waiting" not in app.status_bar.text
            assert all(table.mark_of(gid).state == DONE for gid in finished)
            assert widget_lines(app, table) != before
            await wait_until(pilot, lambda: app.poller.requests > requests, "a poll on resume")


# -- o without a browser --------------------------------------------------------------------


class TestOpen:
    async def test_o_over_ssh_copies_the_url_and_says_so(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setenv("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22")
        monkeypatch.setenv("DISPLAY", ":0")  # X forwarding: still not in front of the user
        opened: list[str] = []
        monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url))
        sim.add_row(queued_row("with-url", DEMO_START - 5, result_url=URL))
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            assert app.table.select_id("with-url")
            await pilot.press("o")
            await wait_until(pilot, lambda: app.clipboard == URL, "the URL copied")
            shown = await toasts_shown(pilot)
            told = [t for t in shown if "No browser here (ssh session)" in t]
            assert len(told) == 1
            assert "copied the URL instead" in told[0] and URL in told[0].replace("\n", "")
            assert not any(t.startswith("Opening") for t in shown)
            assert opened == []

    async def test_o_with_a_browser_opens_it(
        self, clock: FakeClock, sim: QueueSimulator, a_browser: list[str]
    ):
        sim.add_row(queued_row("with-url", DEMO_START - 5, result_url=URL))
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            assert app.table.select_id("with-url")
            await pilot.press("o")
            await wait_until(pilot, lambda: a_browser == [URL], "the browser")
            assert any(t.startswith("Opening https://") for t in await toasts_shown(pilot))
            assert app.clipboard != URL


# -- a token refused over plain http --------------------------------------------------------


class TestInsecureToken:
    async def test_polling_stops_with_one_word_of_what_to_do_and_r_tries_again(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        settings = Settings(
            host="http://hub.example.com", token="tok-over-http", interval=FROZEN_INTERVAL
        )
        app = make_app(clock=clock, sim=sim, settings=settings)
        told: list[str] = []
        notify = app.notify

        def record(message: str, **kwargs: Any) -> None:
            told.append(message)
            notify(message, **kwargs)

        monkeypatch.setattr(app, "notify", record)
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            failure = app.failure
            assert failure is not None and failure.error.kind == "insecure"
            assert failure.stopped
            await wait_until(pilot, lambda: app.poller.next_poll_at is None, "the stop")
            assert "polling stopped (r tries again)" in app.status_bar.fault_text
            assert "retrying in" not in app.status_bar.text
            (advice,) = [t for t in told if "Polling has stopped" in t]
            assert "--allow-insecure" in advice
            # The empty table says it too (wrapped: read as one text).
            assert "Polling has stopped" in " ".join(line.strip() for line in screen_lines(app))

            await pilot.press("r")
            await wait_until(pilot, lambda: app.failures == 2, "the try r asked for")
            await wait_until(pilot, lambda: app.poller.next_poll_at is None, "stopped again")
            assert app.poller.requests == 2
            assert len([t for t in told if "Polling has stopped" in t]) == 1, "said once"
