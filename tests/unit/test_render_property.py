"""Property: any string from the hub renders, in a table cell, the detail pane, a toast
and the status bar, without raising, and nothing on screen is a control character, an
escape sequence or a bidi override.

A Pilot app per example would be far too slow, so one dashboard runs for the whole
module in a thread of its own (`LiveApp`); each Hypothesis example is sent to its event
loop, which updates the widgets in place and renders the screen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from queue_tui.api.models import parse_generation
from queue_tui.core.status import StatusState
from queue_tui.sanitize import clean
from queue_tui.tui.safe_text import link_text, safe_content, safe_text, toast_text
from queue_tui.tui.widgets.detail_pane import render_generation
from queue_tui.tui.widgets.generations_table import CELL_MAX, row_texts
from queue_tui.tui.widgets.status_bar import render_status
from tests.ui.conftest import first_poll, make_app, wait_until
from tests.ui.on_screen import screen_lines

T = TypeVar("T")

#: What must never be on screen: C0 and C1 controls, DEL, bidi embeddings/overrides/
#: isolates, line and paragraph separators.
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

NASTY_PIECES = [
    "[",
    "]",
    "[/]",
    "[/bold]",
    "[bold red]",
    "[@click=app.quit]",
    "[link=javascript:alert(1)]",
    "$accent",
    "\\",
    "\x1b",
    "\x1b[31m",
    "\x1b[2J",
    "\x1b]0;title\x07",
    "\x1b]52;c;cm0gLXJmIH4K\x07",
    "\x1b]8;;https://evil\x1b\\",
    "\x1bP",
    "\x07",
    "\x9b",
    "\x9d",
    "\x9c",
    "\u202e",
    "\u2066",
    "\u2028",
    "\r\n",
    "\t",
    "\x00",
    "\ud800",
    "\U0001f600",
    "\u0301",
    "宽",
    " ",
]

hub_text = st.one_of(
    st.text(max_size=200),
    st.text(st.characters(codec="utf-8"), max_size=80),
    st.binary(max_size=120).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
    st.lists(st.one_of(st.sampled_from(NASTY_PIECES), st.text(max_size=5)), max_size=25).map(
        "".join
    ),
)


class LiveApp:
    """The dashboard on the frozen demo hub, running in its own thread and event loop."""

    def __init__(self) -> None:
        self.app: Any = None
        self.pilot: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._work: asyncio.Queue[Any] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-app", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start()/call()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self.app = make_app()
        async with self.app.run_test(size=(120, 40), notifications=True) as pilot:
            await first_poll(pilot)
            self.app.poller.pause()  # the rows are the test's from here on
            # ...once the first poll's follow-up (its backfill re-renders the rows) is done.
            app = self.app
            await wait_until(pilot, lambda: app.follow_ups >= app.polls, "the follow-up")
            self.pilot = pilot
            self._loop = asyncio.get_running_loop()
            self._work = asyncio.Queue()
            self._ready.set()
            # Steps run here, in the task that holds the app's context (active_app).
            while (item := await self._work.get()) is not None:
                step, done = item
                try:
                    result = await step()
                except BaseException as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(result)

    def start(self) -> LiveApp:
        self._thread.start()
        assert self._ready.wait(60), "the app did not start"
        if self._error is not None:
            raise self._error
        return self

    def call(self, step: Callable[[], Awaitable[T]]) -> T:
        """Run `step()` on the app's loop and return its result."""
        assert self._loop is not None and self._work is not None
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._loop.call_soon_threadsafe(self._work.put_nowait, (step, done))
        return done.result(60)

    def close(self) -> None:
        if self._loop is not None and self._work is not None:
            self._loop.call_soon_threadsafe(self._work.put_nowait, None)
        self._thread.join(60)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveApp]:
    app = LiveApp().start()
    try:
        yield app
    finally:
        app.close()


def hostile_generation(text: str, gid: str = "prop-row") -> Any:
    now = 1_764_000_000
    return parse_generation(
        {
            "generation_id": gid,
            "model_name": text,
            "media_type": text,
            "status": text,
            "enqueued_at": now - 120,
            "started_at": now - 30,
            "error_message": text,
            "result_url": text,
            "target_namespace": text,
            "target_repo": text,
            "target_directory": text,
            "prompt": text,
            "extra": text,
            # A lone surrogate in a key makes pydantic drop the whole row (counted as
            # malformed); in a value it is kept, and that is what is rendered here.
            "x-" + clean(text[:40]): text,
        }
    )


def screen_text(app: Any) -> str:
    """Every line on screen, joined by spaces (a newline would be a finding)."""
    return " ".join(screen_lines(app))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=hub_text)
def test_any_hub_text_renders_everywhere_on_the_real_app(live: LiveApp, text: str) -> None:
    app = live.app

    async def render() -> str:
        gen = hostile_generation(text)
        rows = [g for g in app.table.generations.values() if g.generation_id != "prop-row"]
        app.table.apply_rows([*rows, gen], app.clock())
        assert app.table.select_id("prop-row")
        app.detail.show(gen, force=True)
        app.notify(toast_text(text), markup=False, timeout=30)
        app.status_bar.set_state(
            StatusState(host=text, error=clean(text), filters=text, counts={text: 1}, polls=1)
        )
        await live.pilot.pause()
        shown = screen_text(app)
        app.clear_notifications()
        return shown

    shown = live.call(render)
    assert app.is_running and app.return_code is None, "no exception ended the app"
    assert not UNSAFE.search(shown), repr(UNSAFE.search(shown))
    assert app.table.cell_text("prop-row", "model") == clean(text, max_len=CELL_MAX)


@settings(max_examples=300, deadline=None)
@given(text=hub_text)
def test_any_hub_text_renders_in_every_helper_without_raising(text: str) -> None:
    console = Console(width=80, file=None, record=True, color_system=None, legacy_windows=False)
    gen = hostile_generation(text)
    with console.capture() as capture:
        console.print(render_generation(gen, 1_764_000_000.0))
        console.print(safe_text(text), safe_text(text, multiline=True, max_len=50))
        console.print(link_text(text))
    assert not UNSAFE.search(capture.get().replace("\n", ""))
    for cell in row_texts(gen, 1_764_000_000.0):
        assert not UNSAFE.search(cell)
    for content in (
        safe_content(text),
        render_status(StatusState(host=text, error=clean(text), filters=text), 80),
        render_status(StatusState(host=text, counts={text: 2}, dropped=3, polls=1), 200),
    ):
        assert not UNSAFE.search(content.plain.replace("\n", " "))
    assert not UNSAFE.search(toast_text(text))
