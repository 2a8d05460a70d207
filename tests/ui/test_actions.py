"""Actions on many rows, as a user does them (#14): `space` marks, `del` cancels the
marked rows after one confirmation, `R` resubmits a failed generation, `--read-only`
refuses both and still marks.

The seeded demo hub runs in-process on a frozen clock; each test's rows are its own
(injected rows never progress by themselves). What the plans and summaries say in every
case is unit-tested in tests/unit/test_marks.py.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings
from queue_tui.core.columns import MARK_GLYPH
from queue_tui.core.status import StatusState
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.screenshots.frozen import FROZEN_INTERVAL
from queue_tui.tui.app import QueueApp
from queue_tui.tui.screens.confirm_cancel import ConfirmManyScreen
from queue_tui.tui.widgets.footer import DashboardFooter
from queue_tui.tui.widgets.status_bar import render_state_line
from tests.ui.conftest import DEMO_START, first_poll, make_app, poll, queued_row, wait_until
from tests.ui.on_screen import screen_lines

SIZE = (80, 24)
#: A model of the tests' own: the demo's rows stay out of the view.
OWN = "marks-test-model"


def settings(**kw: Any) -> Settings:
    return Settings(demo=True, interval=FROZEN_INTERVAL, filters=QueueFilters(model=OWN), **kw)


def add_rows(sim: QueueSimulator, n: int, prefix: str = "row") -> list[str]:
    gids = [f"{prefix}-{i:02d}" for i in range(n)]
    for i, gid in enumerate(gids):
        sim.add_row(queued_row(gid, DEMO_START - 600 + i, model_name=OWN))
    return gids


class Notes:
    """Every `notify` of the app (toast widgets expire on a real clock)."""

    def __init__(self, app: QueueApp) -> None:
        self.messages: list[str] = []
        original = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            self.messages.append(message)
            original(message, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    def saying(self, text: str) -> list[str]:
        return [m for m in self.messages if text in m]


def marked_lines(app: QueueApp) -> list[str]:
    """The table's lines that show the mark at their left edge, as the screen shows them."""
    return [line for line in screen_lines(app) if line.startswith(MARK_GLYPH)]


async def test_space_marks_the_row_and_moves_on_the_bar_counts_and_marks_outlive_a_poll_and_a_sort(
    clock: FakeClock, sim: QueueSimulator
):
    gids = add_rows(sim, 4)
    app = make_app(clock=clock, sim=sim, settings=settings())
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert app.table.select_id(gids[0])
        await pilot.press("space", "space")
        assert app.table.cursor_id == gids[2]  # on to the next row each time
        assert "2 marked" in app.status_bar.text
        assert [line.split()[-1] for line in marked_lines(app)] == gids[:2]

        await pilot.press("s")  # another sort, then a poll: same rows marked
        await poll(pilot)
        assert sorted(line.split()[-1] for line in marked_lines(app)) == gids[:2]
        assert app.table.cursor_id == gids[2]

        # In the search box space types a space, and marks nothing.
        await pilot.press("slash", "a", "space", "b")
        assert app.filter_bar.query_one("#search").value == "a b"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.table.row_count == 0, "the search")
        assert "2 marked, 2 hidden" in app.status_bar.text  # filtered away, still marked
        await pilot.press("slash", "backspace", "backspace", "backspace", "escape")
        await wait_until(pilot, lambda: app.table.row_count == 4, "the search cleared")
        assert sorted(line.split()[-1] for line in marked_lines(app)) == gids[:2]

        await pilot.press("asterisk")
        assert "4 marked" in app.status_bar.text
        await pilot.press("U")
        await pilot.pause()
        assert "marked" not in app.status_bar.text and marked_lines(app) == []


async def test_del_cancels_the_marked_rows_after_one_confirmation_then_one_summary(
    clock: FakeClock, sim: QueueSimulator
):
    gids = add_rows(sim, 4)
    app = make_app(clock=clock, sim=sim, settings=settings())
    notes = Notes(app)
    deletes: list[str] = []

    async def remember(request: Any) -> None:
        if request.method == "DELETE":
            deletes.append(request.url.path.rsplit("/", 1)[-1])

    app.client.http.event_hooks["request"].append(remember)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await first_poll(pilot)
        assert app.table.select_id(gids[0])
        await pilot.press("space", "space", "j", "space")  # gids 0, 1 and 3
        await pilot.press("delete")
        dialog = app.screen
        assert isinstance(dialog, ConfirmManyScreen)
        assert dialog.title_text == "Cancel 3 generations?"
        assert [line.split()[1] for line in dialog.text.splitlines()] == [
            gids[0],
            gids[1],
            gids[3],
        ]
        assert deletes == []
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(notes.saying("3 cancelled")), "the summary")
        assert sorted(deletes) == [gids[0], gids[1], gids[3]]
        for gid in (gids[0], gids[1], gids[3]):
            assert app.table.cell_text(gid, "status") == "⊘ cancelled"
            assert sim.get(gid) is None
        assert app.table.cell_text(gids[2], "status") == "◷ queued"
        assert "marked" not in app.status_bar.text  # the rows acted on are unmarked
        assert notes.saying("3 cancelled") == ["3 cancelled"]


async def test_R_resubmits_a_failed_generation_as_the_same_request_and_watches_the_new_one(
    clock: FakeClock, sim: QueueSimulator
):
    request = {
        "model_name": "flux-1-dev",
        "prompt": "a red fox in fresh snow",
        "seed": 42,
        "aspect_ratio": "1:1",
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "target_directory": "renders",
    }
    failed = {
        **request,
        "generation_id": "failed-fox",
        "media_type": "image",
        "status": "failed",
        "enqueued_at": int(DEMO_START - 300),
        "started_at": int(DEMO_START - 290),
        "completed_at": int(DEMO_START - 280),
        "error_message": "CUDA out of memory",
        "cost": 0.02,
        "username": "ada",
    }
    sim.add_row(failed)
    # The hub of our spec: no retry endpoint, so the request is enqueued again.
    transport = StreamingASGITransport(create_app(sim, retry=False))
    view = Settings(
        demo=True,
        interval=FROZEN_INTERVAL,
        filters=QueueFilters(status="failed", model="flux-1-dev"),
    )
    app = make_app(clock=clock, transport=transport, settings=view)
    notes = Notes(app)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await first_poll(pilot)
        assert app.table.select_id("failed-fox")
        await pilot.press("R")
        dialog = app.screen
        assert isinstance(dialog, ConfirmManyScreen)
        assert dialog.title_text == "Resubmit this generation?"
        assert '"seed": 42' in dialog.text and '"cost"' not in dialog.text
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(notes.saying("1 resubmitted")), "the summary")

        (received,) = [r["body"] for r in sim.received if r["endpoint"] == "enqueue"]
        assert received.pop("model") == request["model_name"]
        assert received == {k: v for k, v in request.items() if k != "model_name"}
        (new_id,) = app.model.resubmitted_as["failed-fox"]
        assert new_id in app.model.tracker.watched
        assert f"as {new_id}" in app.detail.plain_text()

        await pilot.press("F")  # the active view lists the new generation, watched
        await wait_until(pilot, lambda: new_id in app.table.generations, "the new row")
        assert app.table.cell_text(new_id, "status").startswith("★")
        assert app.table.select_id(new_id)
        await pilot.pause()
        assert "resubmitted  from failed-fox" in app.detail.plain_text()

        # Once per session: R again on the old row sends nothing.
        await pilot.press("slash", *"failed-fox", "escape")
        await wait_until(pilot, lambda: app.table.row_count >= 1, "the old row")
        assert app.table.select_id("failed-fox")
        await pilot.press("R")
        assert not isinstance(app.screen, ConfirmManyScreen)
        assert notes.saying("already resubmitted in this session")


async def test_read_only_refuses_cancel_and_resubmit_with_a_toast_and_still_marks(
    clock: FakeClock, sim: QueueSimulator
):
    gids = add_rows(sim, 2)
    app = make_app(clock=clock, sim=sim, settings=settings(read_only=True))
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot)
        assert app.table.select_id(gids[0])
        await pilot.press("space", "delete", "R")
        await pilot.pause()
        assert "1 marked" in app.status_bar.text
        assert not isinstance(app.screen, ConfirmManyScreen)
        assert notes.saying("Read-only (--read-only): cancelling is turned off")
        assert notes.saying("Read-only (--read-only): resubmitting is turned off")
        assert all(sim.get(gid) is not None for gid in gids)
        footer = str(app.query_one(DashboardFooter).render())
        assert "space Mark" in footer and "Resubmit" not in footer and "Cancel" not in footer
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any("Resubmit" in t or "Cancel" in t for t in titles)


def test_the_marked_count_survives_on_a_60_column_status_bar():
    state = StatusState(
        host="hub.oxen.ai",
        since_ok=0.0,
        latency=0.02,
        counts=Counter(processing=12, queued=45, failed=1, succeeded=7),
        shown=40,
        total=65,
        marked=3,
        marked_hidden=1,
        polls=3,
        events="live",
        filters="model=flux-1-dev",
    )
    assert "3 marked, 1 hidden by the view" in render_state_line(state, 160).plain
    narrow = render_state_line(state, 60).plain
    assert "3 marked" in narrow and len(narrow) <= 58
