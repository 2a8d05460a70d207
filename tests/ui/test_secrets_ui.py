"""The API token never reaches the screen: not in a screenshot of any screen, not in a
toast, not in the status bar, not in the bytes written to the terminal, not in the log,
even when the hub refuses it (401/403) and echoes it back in its error body.

The token is a marker string; every check looks for the marker itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from textual.drivers import headless_driver

from queue_tui.demo.clock import FakeClock
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.logsetup import setup_logging
from queue_tui.tui.app import QueueApp
from tests.ui.conftest import first_poll, poll, wait_until
from tests.ui.on_screen import toasts, toasts_shown
from tests.ui.test_faults_ui import fault_app
from tests.ui.test_hostile_payloads import CapturingDriver

MARKER = "tok_MARKER_5ecr3t"
SIZE = (120, 36)
SOURCES = ["--token", "OXEN_API_KEY", "oxen CLI config (/home/me/.config/oxen/auth_config.toml)"]


async def echoing_refusal(request: httpx.Request) -> httpx.Response:
    """A hub that refuses the token and quotes the request back, token and all."""
    auth = request.headers.get("authorization", "")
    body = {
        "error": {"type": "unauthorized", "title": f"invalid token {auth} ({MARKER})"},
        "status": "error",
    }
    return httpx.Response(401, json=body, headers={"www-authenticate": auth})


async def echoing_html(request: httpx.Request) -> httpx.Response:
    auth = request.headers.get("authorization", "")
    return httpx.Response(500, text=f"<html><pre>{auth}\n{MARKER}</pre></html>")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    written: list[str] = []
    monkeypatch.setattr(CapturingDriver, "output", written)
    monkeypatch.setattr(headless_driver, "HeadlessDriver", CapturingDriver)
    yield written


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "queue-tui.log"
    setup_logging(path)
    try:
        yield path
    finally:
        setup_logging(None)


def screenshot(app: QueueApp) -> str:
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)) + svg


def assert_no_marker(app: QueueApp, where: str) -> None:
    assert MARKER not in screenshot(app), f"the token in a screenshot of {where}"
    assert MARKER not in app.status_bar.text, where
    for toast in toasts(app):  # the whole text of each, title and message
        assert MARKER not in toast, where
    # Not even a recognisable piece of it.
    assert "5ecr3t" not in screenshot(app), where


@pytest.mark.parametrize("source", SOURCES)
async def test_refused_token_is_never_shown_anywhere(
    clock: FakeClock,
    sim: QueueSimulator,
    source: str,
    terminal: list[str],
    debug_log: Path,
):
    app, hub = fault_app(clock, sim, token=MARKER, token_source=source)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await first_poll(pilot)
        assert app.client.http.headers["authorization"] == f"Bearer {MARKER}", "it is sent"
        assert_no_marker(app, "the dashboard")

        hub.fault = echoing_refusal
        await poll(pilot)
        await pilot.pause()
        assert app.failure is not None and app.failure.error.kind == "auth"
        shown_source = source.split(" (")[0]
        assert f"the token from {shown_source} was refused" in app.status_bar.fault_text
        shown = await toasts_shown(pilot)
        assert any(t.startswith("Poll failed\n") for t in shown), "toasted at once"
        assert_no_marker(app, "the dashboard after a 401")

        hub.fault = echoing_html
        await poll(pilot)
        await poll(pilot)  # the second failure in a row is toasted too
        assert_no_marker(app, "the dashboard after a 500 quoting the request")

        for keys, what in [
            (("question_mark",), "help"),
            (("escape", "enter"), "the full-screen detail"),
            (("escape", "ctrl+p"), "the command palette"),
        ]:
            await pilot.press(*keys)
            await pilot.pause()
            assert_no_marker(app, what)
        await pilot.press("escape")
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert_no_marker(app, "the too-small notice")
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        output = "".join(terminal)
        assert output, "the terminal saw the frames"
        assert MARKER not in output and "5ecr3t" not in output

        # The control: a marker that is on screen is found by the same checks.
        app.notify(MARKER, markup=False)
        await pilot.pause()
        with pytest.raises(AssertionError):
            assert_no_marker(app, "a deliberate leak")
        assert MARKER in "".join(terminal)

    log = debug_log.read_text(encoding="utf-8")
    assert "poll failed (auth" in log, "the log did record the failures"
    assert MARKER not in log


async def test_first_poll_refused_explains_without_the_token(
    clock: FakeClock, sim: QueueSimulator, terminal: list[str]
):
    app, hub = fault_app(clock, sim, token=MARKER, token_source="OXEN_API_KEY")
    hub.fault = echoing_refusal
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await first_poll(pilot)
        await wait_until(
            pilot, lambda: "Cannot load" in app.detail.empty_message, "the empty-table note"
        )
        assert "OXEN_API_KEY" in app.detail.empty_message
        assert MARKER not in app.detail.empty_message
        assert_no_marker(app, "the empty dashboard after a 401")
    assert MARKER not in "".join(terminal)
