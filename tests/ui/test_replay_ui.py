"""`queue-tui --replay FILE`: the real dashboard driven by the shipped recording.

The app's clock is the recording's (`ReplayTransport.now`), so ages and "updated Ns ago"
read as they did when it was recorded, not as weeks-old data; the same recording gives
the same rows every time. Also: the CLI hands --replay/--speed/--log to the dashboard.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import Select

from queue_tui import cli
from queue_tui.api.recording import ReplayTransport
from queue_tui.config import Settings
from queue_tui.connect import build_client, client_and_clock
from queue_tui.logsetup import setup_logging
from queue_tui.tui.app import QueueApp
from tests.ui.conftest import first_poll, poll, wait_until

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "demo-recording.jsonl"
SIZE = (120, 36)


def recorded_pages(params: dict[str, str] | None = None) -> list[tuple[float, list[str]]]:
    """(t, generation ids) of each recorded queue page asked with `params`."""
    pages = []
    for line in SHIPPED.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["path"] == "/api/ai/queue" and entry.get("params", {}) == (params or {}):
            rows = json.loads(entry["body"])["generations"]
            pages.append((entry["t"], [r["generation_id"] for r in rows]))
    return pages


def replay_settings(speed: float = 0.0) -> Settings:
    # A long interval: only the test's refreshes poll.
    return Settings(replay=str(SHIPPED), replay_speed=speed, interval=60.0, token_source="none")


async def replay_run() -> list[tuple[float, list[str], list[str], list[list[str]]]]:
    """Replay every unfiltered page into the app; per poll: (app clock, page ids, table
    order, every cell's text)."""
    app = dashboard_app(replay_settings())
    assert isinstance(app.client.http._transport, ReplayTransport)
    seen = []
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        for _ in range(len(recorded_pages())):
            table = app.table
            cells = [
                [table.cell_text(gid, name) for name in ("status", "model", "age", "wait", "run")]
                for gid in table.ordered_ids
            ]
            seen.append(
                (app.clock(), [g.generation_id for g in app.page_rows], table.ordered_ids, cells)
            )
            await poll(pilot)
    return seen


async def test_replay_drives_the_dashboard_on_the_recordings_clock():
    pages = recorded_pages()
    app = dashboard_app(replay_settings())
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert "replay of demo-recording.jsonl" in app.status_bar.text
        for index, (t, ids) in enumerate(pages):
            if index:
                await poll(pilot)
            assert app.failure is None
            assert app.clock() == t, "the app's now is the recording's"
            assert [g.generation_id for g in app.page_rows] == ids
            assert set(ids) <= set(app.table.generations)
            now = app.clock()
            for gen in app.page_rows:
                age = gen.age_seconds(now)
                assert age is not None and 0 <= age < 3600, "ages as recorded, not weeks"
            assert "updated just now" in app.status_bar.text
            assert "stale" not in app.status_bar.text
        # Past the end the view holds still on the last page.
        await poll(pilot)
        assert [g.generation_id for g in app.page_rows] == pages[-1][1]
        assert app.clock() == pages[-1][0]


async def test_the_shipped_recording_gives_the_same_rows_every_time():
    first = await replay_run()
    second = await replay_run()
    assert len(first) == len(recorded_pages()) == 20
    assert first == second
    assert len({tuple(ids) for _, ids, _, _ in first}) > 5, "the queue did move"


async def test_filters_are_answered_from_the_recording():
    app = dashboard_app(replay_settings())
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        (t, cancelled), *_ = recorded_pages({"status": "cancelled"})
        seen = app.polls
        app.filter_bar.query_one("#status", Select).value = "cancelled"
        await wait_until(pilot, lambda: app.polls > seen, "the filtered poll")
        assert app.failure is None
        assert [g.generation_id for g in app.page_rows] == cancelled
        assert all(g.status == "cancelled" for g in app.page_rows)
        assert app.clock() == t


async def test_speed_4_plays_the_recording_four_times_as_fast():
    # The transport's clock is a fake one moved by hand: 2 s of wall time at speed 4 is
    # 8 s of recording, so a poll then shows the page recorded 8 s later (the ones in
    # between skipped), and the app's clock is there too; never ahead, never back.
    pages = recorded_pages()
    fake = FakeTime()
    settings = replay_settings(speed=4.0)
    transport = ReplayTransport(SHIPPED, speed=4.0, clock=fake)
    app = QueueApp(
        settings, client=build_client(settings, transport=transport), clock=transport.now
    )
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert app.clock() == pages[0][0]
        assert [g.generation_id for g in app.page_rows] == pages[0][1]
        times = [app.clock()]
        for index in (4, 8, 12):
            fake.now += 2
            assert app.clock() == pages[index][0], "the clock runs at four times the speed"
            await poll(pilot)
            assert [g.generation_id for g in app.page_rows] == pages[index][1]
            times.append(app.clock())
        fake.now += 0.25  # 1 s of recording: the next page is not due yet
        await poll(pilot)
        assert [g.generation_id for g in app.page_rows] == pages[12][1]
        fake.now += 3600
        end = max(json.loads(line)["t"] for line in SHIPPED.read_text().splitlines())
        assert app.clock() == end, "held at the end of the recording"
        await poll(pilot)
        assert [g.generation_id for g in app.page_rows] == pages[-1][1]
        times.append(app.clock())
        assert app.failure is None
        assert times == sorted(times)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def dashboard_app(settings: Settings) -> QueueApp:
    """The app as `queue-tui --replay` builds it: on the recording's clock."""
    client, clock = client_and_clock(settings)
    return QueueApp(settings, client=client, clock=clock)


def test_cli_hands_replay_speed_and_log_to_the_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    runs: list[Settings] = []
    monkeypatch.setattr(
        "queue_tui.tui.app.run_dashboard", lambda settings, **kw: runs.append((settings, kw))
    )
    tty = types.SimpleNamespace(isatty=lambda: True)
    monkeypatch.setattr(cli, "sys", types.SimpleNamespace(stdin=tty, stdout=tty, exit=sys.exit))
    log = tmp_path / "dash.log"
    try:
        result = CliRunner().invoke(
            cli.main, ["--replay", str(SHIPPED), "--speed", "4", "--log", str(log)]
        )
        assert result.exit_code == 0, result.output
        ((settings, given),) = runs
        assert settings.replay == str(SHIPPED) and settings.replay_speed == 4.0
        assert settings.interval == 0.5, "polls four times as often as the recording did"
        assert settings.token is None, "a replay sends no token anywhere"
        assert log.exists(), "--log is set up on the dashboard path"
        app = QueueApp(settings, **given)
        assert isinstance(app.client.http._transport, ReplayTransport)
        assert app.poller.interval == 0.5
    finally:
        setup_logging(None)


async def test_the_dashboard_writes_its_debug_log(tmp_path: Path):
    log = tmp_path / "dash.log"
    setup_logging(log)
    try:
        app: QueueApp = dashboard_app(replay_settings())
        async with app.run_test(size=SIZE) as pilot:
            await first_poll(pilot)
            await poll(pilot)
    finally:
        setup_logging(None)
    text = log.read_text(encoding="utf-8")
    assert "GET /api/ai/queue params={} -> 200" in text
