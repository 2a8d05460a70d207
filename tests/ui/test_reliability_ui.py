"""Reliability on the dashboard (issue #11), as the user sees it.

- A field of the wrong type costs that field, not the row: its cells show `?` (not "—",
  which means "not sent"), the detail pane shows `?` and the raw value (sanitised), and
  the status bar counts such rows beside the dropped ones.
- A row whose outcome is unknown says why in the detail pane.
- While the hub fails, the status bar and the empty table's note show the same, newest
  error, and a retry in flight says so (and for how long) instead of a countdown at 0.
- The configuration's warnings are on screen at start.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import replace
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.models import parse_generation
from queue_tui.config import Settings
from queue_tui.core.status import SLOW_ANSWER, StatusState
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import FROZEN_INTERVAL, SteadyClient
from queue_tui.tui.app import QueueApp
from queue_tui.tui.screens.detail import DetailScreen
from queue_tui.tui.widgets.detail_pane import DetailPane
from queue_tui.tui.widgets.generations_table import (
    COLUMN_NAMES,
    DEFAULT_MARK,
    RowMark,
    row_texts,
)
from queue_tui.tui.widgets.status_bar import render_state_line
from tests.ui.conftest import (
    DEMO_START,
    FakeMonotonic,
    GatedTransport,
    first_poll,
    make_app,
    poll,
    wait_until,
)

WIDE = (160, 48)
QUEUE_PATH = "/api/ai/queue"


def screen_text(app: QueueApp) -> str:
    """What is on the screen (toasts included), as plain text."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\u00a0", " ")


def row(gid: str, **fields: Any) -> dict[str, Any]:
    """A queued row that never progresses, with `fields` over the good ones."""
    return {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "queued",
        "enqueued_at": int(DEMO_START - 300),
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "prompt": "a lighthouse at dusk",
        **fields,
    }


class ExtraRows(httpx.AsyncBaseTransport):
    """The demo hub, with `rows` added to every queue listing as they are. (The demo hub
    lists an injected row only when its status is queued or processing: a row whose
    status has the wrong type comes this way.)"""

    def __init__(self, inner: httpx.AsyncBaseTransport, rows: list[dict[str, Any]]) -> None:
        self.inner = inner
        self.rows = rows

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if (
            request.method != "GET"
            or request.url.path != QUEUE_PATH
            or "status" in str(request.url.params)
        ):
            return response
        await response.aread()
        page = json.loads(response.content)
        page["generations"].extend(self.rows)
        page["count"] = len(page["generations"])
        return httpx.Response(response.status_code, json=page)


BAD_TIME = row("bad-time-0001", enqueued_at="yesterday")
BAD_STARTED = row("bad-start-0002", status="processing", started_at={"t": 1})
BAD_MODEL = row("bad-model-0003", model_name=["flux"], media_type=7.5)
BAD_TEXT = row("bad-text-0004", prompt={"p": 1}, target_repo=["x"])
#: A raw value that tries to break the screen: shown literally, escapes stripped.
HOSTILE_RAW = "[/]\u202e\x1b]0;pwned\x07[@click=app.quit]x[/]"
BAD_HOSTILE = row("bad-hostile-0005", completed_at=HOSTILE_RAW)
BAD_STATUS = row("bad-status-0006", status=42)
GOOD = row("good-row-0007")
SIM_ROWS = [BAD_TIME, BAD_STARTED, BAD_MODEL, BAD_TEXT, BAD_HOSTILE, GOOD]


def bad_fields_app(clock: FakeClock, sim: QueueSimulator) -> QueueApp:
    for raw in SIM_ROWS:
        sim.add_row(raw)
    transport = ExtraRows(StreamingASGITransport(create_app(sim)), [BAD_STATUS])
    return make_app(clock=clock, sim=sim, transport=transport)


async def detail_of(pilot: Pilot, gid: str) -> str:
    app = pilot.app
    assert isinstance(app, QueueApp)
    assert app.table.select_id(gid)
    await pilot.pause()
    return app.detail.plain_text()


class TestBadFields:
    async def test_cells_from_a_bad_field_show_a_question_mark_not_a_dash(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = bad_fields_app(clock, sim)
        async with app.run_test(size=WIDE) as pilot:
            await first_poll(pilot)
            table = app.table
            assert {r["generation_id"] for r in [*SIM_ROWS, BAD_STATUS]} <= set(
                table.generations
            ), "every row with an id is kept"

            def cells(gid: str) -> dict[str, str]:
                return {c: table.cell_text(gid, c) for c in COLUMN_NAMES}

            good = cells(GOOD["generation_id"])
            assert "?" not in good.values()

            # enqueued_at garbled: age, wait and ETA are "?"; the run is "—" (not sent).
            bad_time = cells(BAD_TIME["generation_id"])
            assert (bad_time["age"], bad_time["wait"], bad_time["eta"]) == ("?", "?", "?")
            assert bad_time["run"] == "—"
            assert bad_time["status"] == "◷ queued" and bad_time["model"] == "flux-1-dev"

            bad_started = cells(BAD_STARTED["generation_id"])
            assert (bad_started["wait"], bad_started["run"], bad_started["eta"]) == ("?",) * 3
            assert bad_started["age"] == good["age"], "the age comes from enqueued_at alone"

            bad_model = cells(BAD_MODEL["generation_id"])
            assert (bad_model["model"], bad_model["media"], bad_model["eta"]) == ("?",) * 3

            bad_text = cells(BAD_TEXT["generation_id"])
            assert bad_text["prompt"] == "?"
            assert bad_text["target"] == "ox/?", "the part that was sent stays"

            bad_status = cells(BAD_STATUS["generation_id"])
            assert bad_status["status"] == "?" and bad_status["eta"] == "?"

            bad_hostile = cells(BAD_HOSTILE["generation_id"])
            assert bad_hostile["run"] == "?"  # completed_at garbled on a row in flight

            # The status bar counts them (wide, then at 80 columns), and the `?` status.
            assert "⚠ 6 rows with bad fields" in app.status_bar.text
            assert "? 1 bad status" in app.status_bar.text
            assert "in progress" not in app.status_bar.text
            await pilot.resize_terminal(80, 24)
            await wait_until(pilot, lambda: app.status_bar.size.width < 100, "the resize")
            await poll(pilot)
            assert "⚠ 6 rows with bad fields" in app.status_bar.text
            assert "⚠ 6 rows with bad fields" in screen_text(app), "fits at 80 columns"

    async def test_the_detail_pane_shows_a_question_mark_and_what_the_hub_sent(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        app = bad_fields_app(clock, sim)
        async with app.run_test(size=WIDE) as pilot:
            await first_poll(pilot)
            text = await detail_of(pilot, BAD_TIME["generation_id"])
            assert re.search(r'enqueued +\? \(the hub sent "yesterday"\)', text), text
            assert re.search(r"queue wait +\? *\n", text)
            assert re.search(r"started +—", text), "not sent: still a dash"
            assert re.search(r"eta +\? ", text)

            text = await detail_of(pilot, BAD_STATUS["generation_id"])
            assert re.search(r"status +\? \(the hub sent 42\)", text), text
            assert "older row shape" not in text, "the hub did send a status"

            text = await detail_of(pilot, BAD_MODEL["generation_id"])
            assert re.search(r'model +\? \(the hub sent \["flux"\]\)', text), text
            assert re.search(r"media +\? \(the hub sent 7.5\)", text), text

            text = await detail_of(pilot, BAD_TEXT["generation_id"])
            assert re.search(r'prompt +\? \(the hub sent \{"p": 1\}\)', text), text
            assert re.search(r"target +ox/\? *\n", text), text
            assert re.search(r'repo +\? \(the hub sent \["x"\]\)', text), text

            # A hostile raw value: literal markup, no escape sequence, no bidi override.
            text = await detail_of(pilot, BAD_HOSTILE["generation_id"])
            (line,) = [ln for ln in text.splitlines() if ln.startswith("completed")]
            assert "? (the hub sent " in line and "[@click=app.quit]x[/]" in line, line
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
            assert app.is_running

            # The full-screen detail shows the same.
            await detail_of(pilot, BAD_TIME["generation_id"])
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
            full = app.screen.query_one(DetailPane).plain_text()
            assert re.search(r'enqueued +\? \(the hub sent "yesterday"\)', full), full

    def test_a_field_filled_in_later_is_no_longer_shown_as_bad(self):
        # An outcome learnt elsewhere sets the status (and the completion time) of a row
        # whose listing garbled them: the cells show what is known now.
        gen = parse_generation(row("later", status={"s": 1}, completed_at="soon"))
        now = DEMO_START
        texts = row_texts(gen, now)
        assert texts[0] == "?" and texts[6] == "?"
        assert row_texts(gen, now, RowMark(watched=True))[0] == "★ ?"
        final = gen.model_copy(update={"status": "failed", "completed_at": now})
        texts = row_texts(final, now, DEFAULT_MARK)
        assert texts[0] == "✖ failed" and texts[6] != "?"


class TestUnknownOutcome:
    async def test_the_detail_pane_says_why_the_outcome_is_unknown(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        gid = GOOD["generation_id"]
        sim.add_row(GOOD)
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=WIDE) as pilot:
            await first_poll(pilot)
            reason = (
                "not in the hub's succeeded, failed or cancelled lists, and GET by id answered 404"
            )
            events = app.model.tracker.resolve_unknown(gid, clock(), reason=reason)
            assert events and events[-1].reason == reason
            app.render_rows()
            text = await detail_of(pilot, gid)
            assert f"outcome      unknown: {reason}" in text, text
            assert app.table.cell_text(gid, "status").endswith("unknown")


class FlakyHub(httpx.AsyncBaseTransport):
    """The demo hub; queue listings answer `status` (an HTTP error) while it is set."""

    def __init__(self, sim: QueueSimulator) -> None:
        self.inner = StreamingASGITransport(create_app(sim, events=False))
        self.status: int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.status is not None and request.url.path == QUEUE_PATH:
            return httpx.Response(self.status, json={"error": f"Queue says {self.status}"})
        return await self.inner.handle_async_request(request)


def flaky_app(
    clock: FakeClock, sim: QueueSimulator, mono: FakeMonotonic
) -> tuple[QueueApp, FlakyHub, GatedTransport]:
    """The dashboard on a FlakyHub whose queue listings wait while `held` is on."""
    hub = FlakyHub(sim)
    gated = GatedTransport(hub, lambda request: request.url.path == QUEUE_PATH)
    gated.gate.set()
    settings = Settings(demo=True, interval=FROZEN_INTERVAL)
    client = SteadyClient(settings, transport=gated)
    return QueueApp(settings, client=client, clock=clock, monotonic=mono), hub, gated


async def held_retry(pilot: Pilot, gated: GatedTransport) -> None:
    """Press r with the gate shut: the retry goes out and waits for an answer."""
    gated.gate.clear()
    held = gated.held
    await pilot.press("r")
    await wait_until(pilot, lambda: gated.held > held, "the held retry")


class TestNewestError:
    async def test_a_retry_in_flight_says_so_then_how_long_it_has_waited(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        mono = FakeMonotonic()
        app, hub, gated = flaky_app(clock, sim, mono)
        async with app.run_test(size=(80, 24)) as pilot:
            await first_poll(pilot)
            hub.status = 503
            await poll(pilot)
            bar = app.status_bar
            assert bar.fault_text.startswith("✖ hub error 503"), bar.fault_text
            assert "retrying in" in bar.fault_text

            # The retry moment passes; the retry goes out and the hub stalls.
            mono.advance(app.failure.delay + 1)
            await wait_until(pilot, lambda: "retrying now…" in bar.fault_text, "retry moment")
            await held_retry(pilot, gated)
            assert "retrying now…" in bar.fault_text
            mono.advance(SLOW_ANSWER + 10)
            await wait_until(
                pilot, lambda: "retrying, no answer for 12s" in bar.fault_text, "the wait"
            )
            assert bar.fault_text.startswith("✖ hub error 503")
            assert "r retries now" not in bar.fault_text
            assert "retrying in" not in bar.fault_text
            assert len(bar.fault_text) <= 78

            # Its answer is a new error: shown at once, with a new countdown.
            hub.status = 502
            gated.gate.set()
            await wait_until(pilot, lambda: app.failures == 2, "the second failure")
            assert bar.fault_text.startswith("✖ hub error 502"), bar.fault_text
            assert "retrying in" in bar.fault_text

    async def test_the_empty_table_note_and_the_bar_show_the_same_newest_error(
        self, clock: FakeClock, sim: QueueSimulator
    ):
        mono = FakeMonotonic()
        app, hub, gated = flaky_app(clock, sim, mono)
        hub.status = 503
        async with app.run_test(size=(120, 36)) as pilot:
            await first_poll(pilot)
            assert app.polls == 0 and app.table.row_count == 0

            def pane() -> str:
                return app.detail.empty_message

            await wait_until(pilot, lambda: "503" in pane(), "the empty-table note")
            assert "Cannot load the queue: hub error 503" in pane()
            assert "retrying in" in pane()

            await held_retry(pilot, gated)
            mono.advance(5)
            await wait_until(pilot, lambda: "no answer for 5s" in pane(), "the wait")
            assert "retrying, no answer for 5s" in app.status_bar.fault_text
            assert "hub error 503" in pane()

            hub.status = 502
            gated.gate.set()
            await wait_until(pilot, lambda: app.failures == 2, "the second failure")
            # Both in the same update: never the pane one error behind the bar.
            assert app.status_bar.fault_text.startswith("✖ hub error 502")
            assert "Cannot load the queue: hub error 502" in pane()
            assert "503" not in pane()
            assert "hub error 502" in screen_text(app)
            assert "hub error 503" not in screen_text(app)


class TestConfigWarnings:
    async def test_config_warnings_are_on_screen_at_start(
        self, clock: FakeClock, sim: QueueSimulator, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setenv("HOME", "/home/u")
        warnings = [
            "/home/u/.config/queue-tui/config.toml: unknown key 'intervall' (ignored)",
            "/home/u/.config/queue-tui/config.toml: unknown key '[b]x[/]\x1b[2J' (ignored)",
        ]
        settings = Settings(demo=True, interval=FROZEN_INTERVAL, warnings=warnings)
        app = make_app(clock=clock, sim=sim, settings=settings)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await first_poll(pilot)
            await wait_until(pilot, lambda: "Config warnings" in screen_text(app), "the toast")
            text = screen_text(app)
            assert "~/.config/queue-tui/config.toml:" in text, "the home directory as ~"
            assert "'intervall'" in text
            assert "'[b]x[/]'" in text, "shown literally, the escape stripped"
            assert app.is_running

    async def test_no_warnings_no_toast(self, clock: FakeClock, sim: QueueSimulator):
        app = make_app(clock=clock, sim=sim)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await first_poll(pilot)
            await pilot.pause(0.1)
            assert "Config warning" not in screen_text(app)


class TestDataWarningWording:
    """The status bar's warning about garbled rows: in full when wide; at 80 columns the
    longest form that fits after the counts."""

    QUIET = Counter({"processing": 9, "queued": 35, "failed": 11, "succeeded": 56})
    BUSY = Counter(
        {"processing": 12, "queued": 28, "paused": 11, "failed": 17, "cancelled": 2}
        | {"succeeded": 102}
    )

    @pytest.mark.parametrize(
        ("dropped", "degraded", "counts", "wide", "narrow"),
        [
            (2, 0, QUIET, "⚠ 2 malformed rows dropped", "⚠ 2 malformed rows dropped"),
            (2, 0, BUSY, "⚠ 2 malformed rows dropped", "⚠ 2 rows dropped"),
            (0, 1, QUIET, "⚠ 1 row with bad fields", "⚠ 1 row with bad fields"),
            (0, 3, BUSY, "⚠ 3 rows with bad fields", "⚠ 3 with ?"),
            (
                2,
                3,
                QUIET,
                "⚠ 2 malformed rows dropped, 3 with bad fields",
                "⚠ 2 dropped, 3 with bad fields",
            ),
            (2, 3, BUSY, "⚠ 2 malformed rows dropped, 3 with bad fields", "⚠ 2 dropped, 3 with ?"),
        ],
    )
    def test_wording(
        self, dropped: int, degraded: int, counts: Counter[str], wide: str, narrow: str
    ):
        state = StatusState(
            host="hub.oxen.ai",
            since_ok=0.0,
            polls=1,
            counts=counts,
            shown=111,
            total=111,
            dropped=dropped,
            degraded=degraded,
        )
        assert wide in render_state_line(state, 160).plain
        line = render_state_line(state, 80).plain
        assert line.endswith(narrow) and len(line) <= 78, line
        # At 80 columns "● live" says "just now" well enough: the room goes to the warning.
        assert "updated just now" not in line
        quiet = render_state_line(replace(state, dropped=0, degraded=0), 80).plain
        assert "updated just now" in quiet
