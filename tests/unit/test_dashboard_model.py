"""The dashboard model without a screen: row marks, counts, detail notes and every toast
decision (pacing, summaries, watched at once, poll failures, small terminals).

Pages are fed as the poll worker feeds them (`observe_snapshot`); outcomes arrive the
way the event stream brings them (`tracker.apply_event`, then `queue_events`). No
request is made: nothing here awaits the watcher's follow-up.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import httpx
import pytest

from queue_tui.api.client import FetchResult, QueueClient
from queue_tui.api.errors import AuthError, InsecureTokenError, QueueError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import QueuePage, parse_generation
from queue_tui.config import Settings
from queue_tui.core import dashboard
from queue_tui.core.dashboard import (
    COMPACT_TOASTS,
    DONE,
    PENDING,
    ROOMY_TOASTS,
    DashboardModel,
    RowMark,
    Toast,
)
from queue_tui.core.poller import Poller, PollFailed, Snapshot
from queue_tui.core.status import StatusState, paused_phrase, retry_phrase
from queue_tui.demo.clock import FakeClock

START = 1_764_000_000.0
ROOMY = (120, 36)
SMALL = (80, 24)


def row(gid: str, status: str = "queued", model: str = "flux", **extra: Any) -> dict[str, Any]:
    return {
        "generation_id": gid,
        "model_name": model,
        "media_type": "image",
        "status": status,
        "enqueued_at": START - 60,
        **extra,
    }


class Dash:
    """A model on a fake clock, fed pages and event-stream outcomes by hand."""

    def __init__(self, **settings: Any) -> None:
        self.clock = FakeClock(START)
        self.settings = Settings(**{"host": "http://hub.invalid", **settings})
        client = QueueClient(
            self.settings, transport=httpx.MockTransport(lambda r: httpx.Response(500))
        )
        self.model = DashboardModel(self.settings, client, self.clock)

    def page(self, *rows: dict[str, Any]) -> Snapshot:
        gens = [parse_generation(r) for r in rows]
        result = FetchResult(
            page=QueuePage(count=len(gens), generations=gens),
            latency=0.01,
            fetched_at=self.clock(),
            filters=self.model.filters,
        )
        snapshot = Snapshot(result)
        self.model.observe_snapshot(snapshot)
        return snapshot

    def failed(self, gid: str, error: str = "CUDA out of memory") -> None:
        event = {"generation_id": gid, "status": "failed", "error": error}
        self.model.queue_events(self.model.tracker.apply_event(event, self.clock()))

    def succeeded(self, gid: str) -> None:
        event = {"generation_id": gid, "status": "succeeded", "url": "https://x.test/a.png"}
        self.model.queue_events(self.model.tracker.apply_event(event, self.clock()))

    def announce(self, size: tuple[int, int] = ROOMY) -> list[Toast]:
        return self.model.announce(self.clock(), size)

    def tick(self, seconds: float, size: tuple[int, int] = ROOMY) -> list[Toast]:
        self.clock.advance(seconds)
        return self.model.tick(self.clock(), size)[1]


def titles(toasts: list[Toast]) -> list[str]:
    return [t.title for t in toasts if t.message]


# -- rows and marks ------------------------------------------------------------------------


def test_rows_carry_marks_for_pending_finished_and_watched_rows() -> None:
    d = Dash(linger=60.0)
    d.page(row("a-0001"), row("b-0002"), row("c-0003"))
    d.model.tracker.watch("c-0003")
    d.page(row("a-0001"), row("c-0003"))  # b left the queue: finishing
    d.failed("c-0003")
    view = d.model.rows(d.clock())
    assert [g.generation_id for g in view.rows] == ["a-0001", "b-0002", "c-0003"]
    assert "a-0001" not in view.marks  # a plain active row without an ETA
    assert view.marks["b-0002"].state == PENDING
    assert view.marks["c-0003"] == RowMark(DONE, True, "")
    assert view.counts == {"queued": 1, "finishing": 1, "failed": 1}


def test_hidden_finished_rows_and_filters_shape_the_visible_rows_not_the_total() -> None:
    d = Dash(linger=60.0)
    d.page(row("a-0001"), row("b-0002", model="sdxl"))
    d.failed("a-0001")
    d.model.show_finished = False
    view = d.model.rows(d.clock())
    assert [g.generation_id for g in view.visible] == ["b-0002"]
    assert len(view.rows) == 2
    d.model.show_finished = True
    d.model.filters = QueueFilters(search="sdxl")
    assert [g.generation_id for g in d.model.rows(d.clock()).visible] == ["b-0002"]


def test_a_finished_row_lingers_then_goes_and_the_tick_says_so() -> None:
    d = Dash(linger=30.0)
    d.page(row("a-0001"))
    d.failed("a-0001")
    assert d.model.rows(d.clock()).marks["a-0001"].state == DONE
    d.clock.advance(31)
    expired, _ = d.model.tick(d.clock(), ROOMY)
    assert expired
    assert d.model.rows(d.clock()).rows == []


def test_detail_notes_say_watched_pending_and_the_outcome_source() -> None:
    d = Dash(linger=60.0)
    d.page(row("a-0001"), row("b-0002"))
    d.model.tracker.watch("a-0001")
    d.page(row("a-0001"))
    notes = dict(d.model.detail_notes(d.model.tracker.get("b-0002").generation))
    assert notes["outcome"].startswith("… left the queue")
    d.failed("a-0001")
    notes = dict(d.model.detail_notes(d.model.tracker.get("a-0001").generation))
    assert notes["watched"] == "★ (w unwatches)"
    assert notes["outcome"] == "learnt from the event stream"
    d.model.tracker.resolve_unknown("b-0002", d.clock(), reason="the hub said 404")
    notes = dict(d.model.detail_notes(d.model.tracker.get("b-0002").generation))
    assert notes["outcome"] == "unknown: the hub said 404"


# -- generation toasts ----------------------------------------------------------------------


def test_failures_inside_the_gap_are_held_and_summarised_when_it_ends() -> None:
    d = Dash()
    d.page(*(row(f"f-{i:04d}") for i in range(4)))
    d.failed("f-0000")
    assert titles(d.announce()) == ["Generation failed"]
    d.failed("f-0001")
    d.failed("f-0002")
    assert d.announce() == []  # held: the gap runs
    assert d.tick(ROOMY_TOASTS.gap - 1) == []
    (summary,) = d.tick(1)
    assert summary.title == "Generations failed"
    assert summary.message.startswith("2 more generations failed: flux ×2; 2× CUDA")
    assert summary.severity == "error" and summary.timeout == ROOMY_TOASTS.failure_timeout


def test_many_failures_at_once_become_one_summary() -> None:
    d = Dash()
    d.page(*(row(f"f-{i:04d}") for i in range(5)))
    for i in range(5):
        d.failed(f"f-{i:04d}")
    (summary,) = d.announce()
    assert summary.message.startswith("5 generations failed: flux ×5")
    assert summary.message.endswith("(t: stats)")


def test_watched_rows_are_told_at_once_and_the_bell_rings_with_a_failure() -> None:
    d = Dash(bell=True)
    d.page(row("f-0001"), row("w-0002"))
    d.failed("f-0001")
    assert [t.bell for t in d.announce()] == [False, True]
    d.model.tracker.watch("w-0002")
    d.failed("w-0002")  # inside the gap, but watched
    toasts = d.announce()
    assert titles(toasts) == ["Watched generation finished"]
    assert toasts[0].message.startswith("★ flux · w-0002 failed: CUDA")
    assert toasts[-1].bell


def test_successes_are_told_only_with_notify_success() -> None:
    quiet, chatty = Dash(), Dash(notify_success=True)
    for d in (quiet, chatty):
        d.page(row("s-0001"))
        d.succeeded("s-0001")
    assert quiet.announce() == []
    (toast,) = chatty.announce()
    assert toast.title == "Generation succeeded" and "https://x.test/a.png" in toast.message


def test_a_small_terminal_gets_one_short_toast_at_a_time_and_a_longer_gap() -> None:
    d = Dash()
    d.page(row("f-0001"), row("f-0002"), row("f-0003"))
    d.failed("f-0001", "boom " * 40)
    d.failed("f-0002", "boom " * 40)
    (summary,) = d.announce(SMALL)
    assert summary.message.startswith("2 generations failed")
    assert summary.timeout == COMPACT_TOASTS.failure_timeout
    d.failed("f-0003", "boom " * 40)
    assert d.announce(SMALL) == []
    assert d.tick(ROOMY_TOASTS.gap, SMALL) == []  # the compact gap is longer
    (single,) = d.tick(COMPACT_TOASTS.gap - ROOMY_TOASTS.gap, SMALL)
    error = single.message.split(": ", 1)[1]
    assert error.startswith("boom boom") and len(error) <= COMPACT_TOASTS.error_len


def test_first_page_of_a_view_does_not_announce_rows_already_finished() -> None:
    d = Dash(filters=QueueFilters(status="failed"))
    d.page(row("f-0001", status="failed", error_message="old news"))
    assert d.announce() == []


# -- poll toasts and config warnings -------------------------------------------------------


def failure(attempt: int, error: QueueError | None = None) -> PollFailed:
    return PollFailed(error=error or QueueError("hub down"), attempt=attempt, delay=2.0)


def test_a_poll_failure_is_toasted_from_the_second_in_a_row_once_then_connected_again() -> None:
    d = Dash()
    assert d.model.page_failed(failure(1)) == []
    (toast,) = d.model.page_failed(failure(2))
    assert (toast.title, toast.severity) == ("Poll failed", "error")
    assert toast.message.startswith("hub down. Retrying with backoff")
    assert d.model.page_failed(failure(3)) == []
    assert [t.message for t in d.model.page_shown(d.page())] == ["Connected again"]
    assert d.model.page_shown(d.page()) == []


def test_a_fault_only_the_user_can_fix_is_toasted_at_once() -> None:
    d = Dash()
    refused = AuthError("unauthorised", status_code=401, token_source="none")
    (toast,) = d.model.page_failed(failure(1, refused))
    assert "press r after fixing it" in toast.message


def test_the_status_state_says_the_newest_fault_and_forgets_it_on_the_next_page() -> None:
    d = Dash(interval=2.0)
    poller = Poller(d.model.watcher.client, d.model.filters, interval=2.0, monotonic=d.clock)
    state = d.model.status_state(poller, d.clock(), shown=0)
    assert (state.polls, state.error, state.since_ok) == (0, None, None)
    d.model.page_shown(d.page(row("a-0001"), row("a-0002")))
    d.model.rows(d.clock())
    d.clock.advance(1)
    state = d.model.status_state(poller, d.clock(), shown=1)
    assert (state.polls, state.shown, state.total, state.since_ok) == (1, 1, 2, 1.0)
    assert not state.stale
    d.model.page_failed(failure(1))
    d.model.page_failed(
        PollFailed(
            error=QueueError("the hub timed out"), attempt=2, delay=4, next_try_at=d.clock() + 4
        )
    )
    state = d.model.status_state(poller, d.clock(), shown=1)
    assert (state.error, state.retry_in, state.stale) == ("the hub timed out", 4.0, True)
    assert d.model.link.failures == 2
    d.model.page_shown(d.page(row("a-0001")))
    state = d.model.status_state(poller, d.clock(), shown=1)
    assert (state.error, state.polls, state.since_ok) == (None, 2, 0.0)


@pytest.mark.parametrize("n", [1, 5])
def test_config_warnings_are_one_toast_at_start(n: int) -> None:
    d = Dash(warnings=[f"unknown key k{i}" for i in range(n)])
    (toast,) = d.model.config_warnings()
    assert toast.title == ("Config warning" if n == 1 else "Config warnings")
    assert toast.message.count("\n") == min(n, 4) - 1
    assert Dash().model.config_warnings() == []


def test_the_empty_table_says_why() -> None:
    d = Dash()
    poller = Poller(d.model.watcher.client, d.model.filters, interval=2.0, monotonic=d.clock)

    def message() -> str:
        return d.model.empty_message(d.model.status_state(poller, d.clock(), shown=0))

    assert message() == "Waiting for the first page from the hub…"
    d.model.page_failed(failure(1))
    assert message().startswith("Cannot load the queue: hub down. Retrying with backoff")
    assert message().endswith("retrying now…")
    d.model.page_shown(d.page())
    d.model.rows(d.clock())
    assert message().startswith("The queue is empty")
    d.model.page_shown(d.page(row("a-0001")))
    d.model.rows(d.clock())
    assert message().startswith("No generations match the filters")


def test_paused_the_status_state_counts_the_rows_with_news_not_shown() -> None:
    d = Dash()
    poller = Poller(d.model.watcher.client, d.model.filters, interval=2.0, monotonic=d.clock)
    d.model.page_shown(d.page(row("a-0001"), row("a-0002"), row("a-0003")))
    d.model.rows(d.clock())
    poller.pause()
    assert d.model.status_state(poller, d.clock(), shown=3).waiting == 0
    d.failed("a-0001")
    d.succeeded("a-0002")
    state = d.model.status_state(poller, d.clock(), shown=3)
    assert state.waiting == d.model.changes_waiting == 2
    assert paused_phrase(state) == "paused, 2 changes waiting"
    assert retry_phrase(state) == "paused, 2 changes waiting (p resumes)"
    assert paused_phrase(StatusState(paused=True, waiting=1)) == "paused, 1 change waiting"
    d.model.rows(d.clock())  # `p`: the table shows them
    assert d.model.status_state(poller, d.clock(), shown=3).waiting == 0
    d.failed("a-0003")
    poller.resume()
    assert d.model.status_state(poller, d.clock(), shown=3).waiting == 0  # live: not held


def test_a_token_refused_over_plain_http_stops_polling_and_says_so_once() -> None:
    d = Dash()
    poller = Poller(d.model.watcher.client, d.model.filters, interval=2.0, monotonic=d.clock)
    refused = InsecureTokenError("refusing to send the API token over plain http")
    stopped = PollFailed(error=refused, attempt=1, delay=math.inf, next_try_at=math.inf)
    (toast,) = d.model.page_failed(stopped)
    assert "Polling has stopped" in toast.message
    state = d.model.status_state(poller, d.clock(), shown=0)
    assert state.stopped and state.retry_in is None
    assert retry_phrase(state) == "polling stopped (r tries again)"
    assert d.model.page_failed(dataclasses.replace(stopped, attempt=2)) == []  # r: said once


def test_paused_for_long_the_waiting_events_are_bounded_and_watched_ones_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dashboard, "UNANNOUNCED_KEPT", 3)
    d = Dash()
    gids = [f"a-{i:04d}" for i in range(6)]
    d.model.page_shown(d.page(*(row(g) for g in gids)))
    d.model.announce(d.clock(), ROOMY)  # the rows' arrival: told
    d.model.tracker.watch("a-0000")
    for gid in gids:  # paused: nobody announces
        d.failed(gid)
    assert d.model.changes_waiting == 3  # counted up to the bound
    told = d.model.announce(d.clock(), ROOMY)
    assert any(t.message.startswith("★") and "a-0000" in t.message for t in told)
    assert {e.generation_id for e in d.model.announced[-4:]} == {"a-0000", *gids[3:]}
