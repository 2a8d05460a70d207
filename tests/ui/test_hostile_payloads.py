"""Hostile hub payloads on the real dashboard: shown literally, never interpreted.

Every poll of the demo hub here carries the demo's own hostile rows
(`queue_tui.demo.chaos.hostile_rows`: Rich markup, unbalanced tags, `[@click=...]`
actions, ANSI colours, OSC title and OSC 52 clipboard sequences, C1 controls, bidi
overrides, a 100 KB error, a 5,000-character model name, unknown enums, wrong types,
extra fields, a row without an id and a `javascript:` URL) mixed among the good rows.

"Nothing reaches the terminal" is checked on the bytes themselves: `CapturingDriver` is
Textual's headless driver with the display switched on, so the app renders every frame
to it exactly as it would to a real terminal, and the test reads what was written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rich.cells import cell_len
from starlette.middleware import Middleware
from textual.drivers import headless_driver
from textual.drivers.headless_driver import HeadlessDriver

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.demo.chaos import ChaosMiddleware, hostile_rows
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.sanitize import clean
from queue_tui.tui.app import QueueApp
from queue_tui.tui.safe_text import toast_text
from queue_tui.tui.screens.detail import DetailScreen
from queue_tui.tui.widgets.generations_table import GenerationsTable
from tests.ui.conftest import first_poll, make_app, poll, wait_until
from tests.ui.on_screen import column_xs, find, toasts_shown, widget_lines

SIZE = (160, 48)

#: The hostile rows that have an id, in `hostile_rows` order (ids do not depend on time).
HOSTILE = [row for row in hostile_rows(0) if "generation_id" in row]
HOSTILE_IDS = [row["generation_id"] for row in HOSTILE]


def hostile(**match: Any) -> dict[str, Any]:
    """The hostile row whose fields include `match`."""
    (row,) = [r for r in HOSTILE if all(r.get(k) == v for k, v in match.items())]
    return row


CLICK_ROW = hostile(model_name="[@click=app.quit]quit[/]")
MARKUP_ROW = hostile(model_name="[bold red]x[/]")
ANSI_ROW = hostile(error_message="\x1b[31mRED\x1b[0m \x1b[2J\x1b[H\x1b[?1049h screen cleared?")
OSC_ROW = hostile(target_repo="repo\x1b]0;pwned title\x07")
OSC52_ROW = hostile(error_message="copy me\x1b]52;c;cm0gLXJmIH4K\x07 please")
BIDI_ROW = hostile(model_name="\u202eevil-model\u202c")
C1_ROW = hostile(model_name="c1\x9b31m-csi\x9d0;t\x9c")
HUGE_ROW = next(r for r in HOSTILE if len(r.get("error_message") or "") > 100_000)
LONG_ROW = hostile(model_name="m" * 5000)
UNKNOWN_ROW = hostile(status="paused", media_type="audio")
WRONG_TYPES_ROW = next(r for r in HOSTILE if r.get("error_message") == 404)
EXTRA_ROW = next(r for r in HOSTILE if "[weird key]" in r)
URL_ROW = hostile(result_url="javascript:alert(document.cookie)")
NEWLINES_ROW = hostile(model_name="line1\nline2\r\nline3\u2028line4")

#: Sequences from the payloads that must never be written to the terminal.
FORBIDDEN_OUTPUT = (
    "\x1b]0;",
    "\x1b]2;",
    "\x1b]52;",
    "\x1b[2J",
    "\x1b[?1049h",
    "\x1b[5m",
    "\x1b[31mRED",
    "\x07",
    "\x00",
    "\x08",
    "\x7f",
    "\x9b",
    "\x9c",
    "\x9d",
    "\u202e",
    "\u202c",
    "\u2066",
    "\u2069",
    "\u2028",
    "pwned title",
    "cm0gLXJmIH4K",
)


class CapturingDriver(HeadlessDriver):
    """Headless input, but the app draws to it as to a terminal; `output` keeps it all."""

    output: list[str] = []  # replaced per test by the `terminal` fixture

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        CapturingDriver.output.append(data)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Everything the next `run_test` app writes to its (pretend) terminal."""
    written: list[str] = []
    monkeypatch.setattr(CapturingDriver, "output", written)
    monkeypatch.setattr(headless_driver, "HeadlessDriver", CapturingDriver)
    yield written


def hostile_app(clock: FakeClock, sim: QueueSimulator) -> QueueApp:
    """The frozen demo dashboard; every poll also brings the hostile rows."""
    hub = create_app(
        sim,
        middleware=[Middleware(ChaosMiddleware, rate=1.0, seed=1, faults=["hostile_rows"])],
    )
    return make_app(clock=clock, sim=sim, transport=StreamingASGITransport(hub))


def screenshot_text(app: QueueApp) -> str:
    """The current screen as the SVG screenshot shows it, as plain text."""
    svg = app.export_screenshot()
    assert "\x1b" not in svg
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\u00a0", " ")


def check_terminal_output(output: list[str]) -> str:
    text = "".join(output)
    assert text, "the capturing driver saw the frames"
    # Textual's own pointer-shape sequence (OSC 22, BEL-terminated) is not from a payload.
    text = re.sub(r"\x1b\]22;[\w-]*\x07", "", text)
    for sequence in FORBIDDEN_OUTPUT:
        assert sequence not in text, f"{sequence!r} reached the terminal"
    # Hyperlinks (OSC 8) only ever point at http(s).
    for target in re.findall(r"\x1b\]8;[^;]*;([^\x1b]*)\x1b\\", text):
        assert target == "" or target.startswith(("http://", "https://")), target
    return text


async def select(pilot: Any, gid: str) -> None:
    app = pilot.app
    assert app.table.select_id(gid), gid
    await wait_until(
        pilot,
        lambda: app.detail.generation is not None and app.detail.generation.generation_id == gid,
        "the detail pane",
    )


class TestHostileRows:
    async def test_every_hostile_row_shows_literally_and_no_escape_reaches_the_terminal(
        self, clock: FakeClock, sim: QueueSimulator, terminal: list[str]
    ):
        app = hostile_app(clock, sim)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            assert set(HOSTILE_IDS) <= set(app.table.generations)
            assert app.dropped == 1, "the row without an id is dropped, and counted"
            assert "⚠ 1 malformed row dropped" in app.status_bar.text
            good = {row["generation_id"] for row in sim.list()}
            assert good <= set(app.table.generations), "the good rows are all there"

            for gid in HOSTILE_IDS:
                await select(pilot, gid)
                assert app.is_running
                screen = screenshot_text(app)
                pane = app.detail.plain_text(width=1000)
                for sequence in FORBIDDEN_OUTPUT:
                    assert sequence not in screen and sequence not in pane, (gid, sequence)

            await select(pilot, MARKUP_ROW["generation_id"])
            assert "[bold red]x[/]" in screenshot_text(app)
            assert "[/] closing nothing [/bold]" in app.detail.plain_text(width=1000)

            await select(pilot, CLICK_ROW["generation_id"])
            pane = app.detail.plain_text(width=1000)
            assert "[@click=app.quit]quit[/]" in screenshot_text(app)
            assert "[@click=app.bell]ring[/] [link=https://evil.example]here[/link]" in pane

            await select(pilot, ANSI_ROW["generation_id"])
            assert "RED  screen cleared?" in app.detail.plain_text(width=1000)

            await select(pilot, OSC_ROW["generation_id"])
            assert "chaos/repo" in app.detail.plain_text(width=1000)

            await select(pilot, OSC52_ROW["generation_id"])
            assert "copy me please" in app.detail.plain_text(width=1000)

            await select(pilot, BIDI_ROW["generation_id"])
            assert "evil-model" in screenshot_text(app)

            await select(pilot, C1_ROW["generation_id"])
            assert app.table.cell_text(C1_ROW["generation_id"], "model") == "c1-csi"

            await select(pilot, NEWLINES_ROW["generation_id"])
            cell = app.table.cell_text(NEWLINES_ROW["generation_id"], "model")
            assert cell == "line1 line2 line3 line4"

            await select(pilot, UNKNOWN_ROW["generation_id"])
            assert app.table.cell_text(UNKNOWN_ROW["generation_id"], "status") == "? paused"
            assert app.table.cell_text(UNKNOWN_ROW["generation_id"], "media") == "audio"
            future = hostile(status="expired")["generation_id"]
            assert app.table.cell_text(future, "status") == "? expired"
            assert app.table.cell_text(future, "media") == "3d-mesh"

            await select(pilot, WRONG_TYPES_ROW["generation_id"])
            pane = app.detail.plain_text(width=1000)
            assert "404" in pane and "chaos/12345" in pane

            await select(pilot, EXTRA_ROW["generation_id"])
            pane = app.detail.plain_text(width=1000)
            assert "[bold]16:9[/]" in pane
            assert "[weird key]" in pane
            assert str(2**63) in pane
            assert "blink" in pane

            check_terminal_output(terminal)

    async def test_huge_texts_are_cut_and_the_app_stays_responsive(
        self, clock: FakeClock, sim: QueueSimulator, terminal: list[str]
    ):
        app = hostile_app(clock, sim)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            long_id = LONG_ROW["generation_id"]
            cell = app.table.cell_text(long_id, "model")
            assert len(cell) <= 120 and cell.startswith("mmmm")
            table = app.table
            assert all(width <= 60 for width in table.column_widths.values())

            await select(pilot, HUGE_ROW["generation_id"])
            await pilot.press("enter")  # the full-screen detail of a 100 KB traceback
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            assert "Traceback (most recent call last):" in screenshot_text(app)
            await pilot.press("end", "home", "escape")
            await select(pilot, long_id)
            assert "m" * 100 in app.detail.plain_text()
            await poll(pilot)  # and the next poll still lands
            assert app.is_running
            check_terminal_output(terminal)

    async def test_clicking_click_markup_does_nothing(
        self,
        clock: FakeClock,
        sim: QueueSimulator,
        terminal: list[str],
        monkeypatch: pytest.MonkeyPatch,
    ):
        rings: list[int] = []
        monkeypatch.setattr(QueueApp, "bell", lambda self: rings.append(1))
        app = hostile_app(clock, sim)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            gid = CLICK_ROW["generation_id"]
            await select(pilot, gid)
            table = app.table
            row = table.cursor_row - int(table.scroll_y) + (1 if table.show_header else 0)
            # Under each column's title on the header line.
            for name, x in column_xs(app, table, table.visible_columns).items():
                await pilot.click(GenerationsTable, offset=(x, row))
                await pilot.pause()
                assert app.is_running, f"a click on the {name} cell"
                if isinstance(app.screen, DetailScreen):  # a second click opens the detail
                    await pilot.press("escape")
            await select(pilot, gid)
            detail = app.detail
            region = detail.region
            # Markup that was interpreted leaves its action on the cells it covers: none has one.
            cells = [
                app.screen.get_style_at(x, y).meta
                for y in range(region.y, region.bottom)
                for x in range(region.x, region.right)
            ]
            assert not [meta["@click"] for meta in cells if "@click" in meta]
            # And a click on each word the markup would have made a link does nothing.
            lines = widget_lines(app, detail)
            for word in ("]ring[", "]quit[", "]here["):
                y = next(y for y, line in enumerate(lines) if word in line)
                x = cell_len(lines[y][: lines[y].index(word)]) + 1
                for dx in range(len(word) - 2):
                    await pilot.click(detail, offset=(x + dx, y))
            await pilot.pause()
            assert app.is_running and app.return_code is None
            assert not rings, "[@click=app.bell] stayed text"
            assert "[@click=app.quit]quit[/]" in screenshot_text(app)
            check_terminal_output(terminal)

    async def test_javascript_url_is_text_and_o_refuses_to_open_it(
        self,
        clock: FakeClock,
        sim: QueueSimulator,
        terminal: list[str],
        monkeypatch: pytest.MonkeyPatch,
    ):
        opened: list[str] = []
        monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url))
        app = hostile_app(clock, sim)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            await select(pilot, URL_ROW["generation_id"])
            assert "javascript:alert(document.cookie)" in app.detail.plain_text()
            assert app.detail.result_url is None
            # Shown on screen, and not as a hyperlink (nor is anything else: the
            # terminal's OSC 8 targets are checked at the end).
            url = URL_ROW["result_url"]
            x, y = find(app, url)
            assert not any(app.screen.get_style_at(x + i, y).link for i in range(len(url)))
            await pilot.press("o")
            await pilot.press("enter", "o")  # from the full-screen detail too
            await pilot.pause(0.05)
            assert opened == []
            refusals = [t for t in await toasts_shown(pilot) if "Refusing to open" in t]
            assert len(refusals) == 2
            text = check_terminal_output(terminal)
            assert "javascript:alert" in text  # shown, as plain text


class TestHostileToasts:
    async def test_a_hostile_hub_error_in_a_toast_renders_literally(
        self, clock: FakeClock, sim: QueueSimulator, terminal: list[str]
    ):
        title = "[bold]x[/] [@click=app.quit]q[/] \x1b]0;TITLE\x07 \u202eevil"
        body = {"error": {"type": "boom", "title": title}, "status": "error"}
        hub = Failing503(StreamingASGITransport(create_app(sim)), body)
        app = make_app(clock=clock, sim=sim, transport=hub)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            hub.failing = True
            await poll(pilot)
            await poll(pilot)  # the second failure in a row is toasted
            messages = await toasts_shown(pilot)
            assert any("[bold]x[/] [@click=app.quit]q[/]" in m for m in messages), messages
            await pilot.pause()
            screen = screenshot_text(app)
            assert "hub error 503: [bold]x[/] [@click=app.quit]q[/]" in screen
            assert "TITLE" not in screen
            # A click on the toast dismisses it; it does not run the action in it.
            toast = app.screen.query("Toast").first()
            await pilot.click(toast, offset=(10, 1))
            await pilot.pause()
            assert app.is_running
            check_terminal_output(terminal)

    async def test_toast_text_of_any_hostile_string_renders_literally(
        self, clock: FakeClock, sim: QueueSimulator, terminal: list[str]
    ):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await first_poll(pilot)
            for row in HOSTILE:
                for value in strings(row):
                    app.notify(toast_text(value), markup=False, timeout=30)
                    app.notify(toast_text(value, max_len=5000), markup=False, timeout=30)
            await pilot.pause()
            check_terminal_output(terminal)
            app.clear_notifications()
            app.notify(toast_text(CLICK_ROW["model_name"]), markup=False, timeout=30)
            await pilot.pause()
            screen = screenshot_text(app)
            assert "[@click=app.quit]quit[/]" in screen
            assert app.is_running
            check_terminal_output(terminal)


class Failing503(httpx.AsyncBaseTransport):
    """The demo hub, until `failing`: then every queue poll gets a 503 with `body`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, body: dict[str, Any]) -> None:
        self.inner = inner
        self.body = body
        self.failing = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failing and request.url.path == "/api/ai/queue":
            return httpx.Response(503, json=self.body)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def strings(value: Any) -> Iterator[str]:
    """Every string in a row: keys, values, nested ones."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_forbidden_sequences_are_really_in_the_payloads():
    """The checks above would pass vacuously if the payloads lost their teeth."""
    payload = "\n".join(strings(hostile_rows(0)))
    for sequence in FORBIDDEN_OUTPUT:
        assert sequence in payload, sequence
    assert clean(ANSI_ROW["error_message"]) == "RED  screen cleared?"


async def test_a_lone_surrogate_in_an_extra_key_keeps_the_row_and_shows_its_params(
    clock: FakeClock, sim: QueueSimulator, terminal: list[str]
):
    # The hub sends a lone surrogate as its JSON escape, `\ud800` (api/wire.hub_json).
    gid = "surrogate-key-0001"
    key = "x" + chr(0xD800) + "y"
    sim.add_row(
        {"generation_id": gid, "model_name": "junk-keys", "status": "processing", key: "kept"}
    )
    app = make_app(clock=clock, sim=sim)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await first_poll(pilot)
        assert gid in app.table.generations, "the row is kept"
        assert app.dropped == 0
        assert app.table.generations[gid].params == {"x\ufffdy": "kept"}
        await select(pilot, gid)
        pane = app.detail.plain_text(width=1000)
        assert "x\ufffdy" in pane and "kept" in pane
        await poll(pilot)
        assert app.is_running and gid in app.table.generations
        check_terminal_output(terminal)
