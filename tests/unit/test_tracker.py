"""The lifecycle tracker over scripted poll sequences."""

from __future__ import annotations

import json
from typing import Any

import pytest

from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation
from queue_tui.core.tracker import (
    UNKNOWN_STATUS,
    EventKind,
    LifecycleEvent,
    RowState,
    Tracker,
)

T0 = 1_764_000_000.0


def gen(gid: str, status: str = "queued", **extra: Any) -> Generation:
    row = {
        "generation_id": gid,
        "model_name": extra.pop("model_name", "flux-1-dev"),
        "media_type": extra.pop("media_type", "image"),
        "status": status,
        "enqueued_at": extra.pop("enqueued_at", T0 - 60),
    }
    if status != "queued":
        row.setdefault("started_at", extra.pop("started_at", T0 - 30))
    row.update(extra)
    return Generation.model_validate(row)


def kinds(events: list[LifecycleEvent]) -> list[tuple[str, str]]:
    return [(e.kind.value, e.generation_id) for e in events]


@pytest.fixture
def tracker() -> Tracker:
    return Tracker(linger=600.0, history_cap=100, clock=lambda: T0)


# -- transitions --------------------------------------------------------------------------


def test_first_poll_reports_every_row_as_appeared(tracker: Tracker) -> None:
    events = tracker.observe([gen("a"), gen("b", "processing")], T0)
    assert kinds(events) == [("appeared", "a"), ("appeared", "b")]
    assert all(e.source == "poll" for e in events)
    assert events[1].generation.status == "processing"


def test_queued_then_processing_is_started(tracker: Tracker) -> None:
    tracker.observe([gen("a")], T0)
    assert kinds(tracker.observe([gen("a", "processing")], T0 + 2)) == [("started", "a")]
    # Still processing: nothing new.
    assert tracker.observe([gen("a", "processing")], T0 + 4) == []


def test_an_unchanged_poll_is_silent(tracker: Tracker) -> None:
    tracker.observe([gen("a"), gen("b")], T0)
    assert tracker.observe([gen("a"), gen("b")], T0 + 2) == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("succeeded", EventKind.SUCCEEDED),
        ("failed", EventKind.FAILED),
        ("cancelled", EventKind.CANCELLED),
    ],
)
def test_a_listed_terminal_status_finishes_the_row(
    tracker: Tracker, status: str, kind: EventKind
) -> None:
    tracker.observe([gen("a", "processing")], T0)
    final = gen("a", status, completed_at=T0 + 1, result_url="https://x/y.png")
    events = tracker.observe([final], T0 + 2)
    assert [e.kind for e in events] == [kind]
    assert tracker.get("a").state is RowState.FINISHED


def test_a_missing_row_vanishes_and_waits_for_its_outcome(tracker: Tracker) -> None:
    tracker.observe([gen("a", "processing"), gen("b")], T0)
    events = tracker.observe([gen("b")], T0 + 2)
    assert kinds(events) == [("vanished", "a")]
    assert tracker.pending_ids() == ["a"]
    assert tracker.is_pending("a")
    # It is not reported again while it stays pending.
    assert tracker.observe([gen("b")], T0 + 4) == []
    # Still kept with its last known status until resolved.
    assert tracker.get("a").generation.status == "processing"


@pytest.mark.parametrize(
    ("status", "kind", "extra"),
    [
        ("succeeded", EventKind.SUCCEEDED, {"result_url": "https://hub/x.png"}),
        ("failed", EventKind.FAILED, {"error_message": "CUDA out of memory"}),
        ("cancelled", EventKind.CANCELLED, {}),
    ],
)
def test_a_vanished_row_is_resolved_as_each_terminal_status(
    tracker: Tracker, status: str, kind: EventKind, extra: dict[str, Any]
) -> None:
    tracker.observe([gen("a", "processing")], T0)
    tracker.observe([], T0 + 2)
    row = gen("a", status, completed_at=T0 + 1, **extra)
    events = tracker.apply_outcome("a", status, T0 + 3, source="status-query", generation=row)
    assert [(e.kind, e.source) for e in events] == [(kind, "status-query")]
    final = events[0].generation
    assert final.status == status
    assert final.completed_at == T0 + 1  # the hub's time, not ours
    for key, value in extra.items():
        assert getattr(final, key) == value
    assert tracker.pending_ids() == []
    # A second source telling the same outcome adds nothing.
    assert tracker.apply_outcome("a", status, T0 + 4, source="status-query", generation=row) == []


def test_a_row_never_found_is_finished_with_outcome_unknown(tracker: Tracker) -> None:
    tracker.observe([gen("a", "processing")], T0)
    tracker.observe([], T0 + 2)
    events = tracker.resolve_unknown("a", T0 + 6)
    assert [(e.kind, e.source) for e in events] == [(EventKind.UNKNOWN, "get-404")]
    assert events[0].generation.status == UNKNOWN_STATUS
    assert events[0].format_line().endswith("finished, outcome unknown")
    assert tracker.get("a").state is RowState.FINISHED
    assert tracker.pending_ids() == []
    # Unknown rows are not counted in the statistics history...
    assert tracker.history == []
    # ...and a real outcome learnt later still upgrades them.
    late = gen("a", "failed", error_message="boom", completed_at=T0 + 1)
    events = tracker.apply_outcome("a", "failed", T0 + 8, source="status-query", generation=late)
    assert [e.kind for e in events] == [EventKind.FAILED]


def test_a_row_this_app_cancelled_resolves_as_cancelled(tracker: Tracker) -> None:
    tracker.observe([gen("a")], T0)
    events = tracker.mark_cancelled("a", T0 + 1)
    assert [(e.kind, e.source) for e in events] == [(EventKind.CANCELLED, "cancel")]
    assert "(cancelled here)" in events[0].format_line()
    # Leaving the view afterwards is no news.
    assert tracker.observe([], T0 + 2) == []


def test_get_404_after_our_cancel_says_cancelled(tracker: Tracker) -> None:
    tracker.observe([gen("a")], T0)
    tracker.get("a").cancelled_here = True
    tracker.observe([], T0 + 2)
    events = tracker.resolve_unknown("a", T0 + 3)
    assert [e.kind for e in events] == [EventKind.CANCELLED]


def test_a_pending_row_listed_again_is_active_again(tracker: Tracker) -> None:
    tracker.observe([gen("a")], T0)
    tracker.observe([], T0 + 2)
    events = tracker.observe([gen("a", "processing")], T0 + 4)
    assert kinds(events) == [("started", "a")]
    assert tracker.get("a").state is RowState.ACTIVE
    assert tracker.pending_ids() == []


def test_a_finished_row_never_goes_back_to_active(tracker: Tracker) -> None:
    tracker.observe([gen("a", "processing")], T0)
    tracker.apply_event(
        {"generation_id": "a", "status": "succeeded", "url": "https://hub/a.png"}, T0 + 1
    )
    # A lagging list still shows it processing: ignored.
    assert tracker.observe([gen("a", "processing")], T0 + 2) == []
    assert tracker.get("a").generation.status == "succeeded"


def test_the_event_stream_finishes_rows_with_url_or_error(tracker: Tracker) -> None:
    tracker.observe([gen("a", "processing"), gen("b", "processing")], T0)
    ok = tracker.apply_event(
        {"generation_id": "a", "status": "succeeded", "url": "https://hub/a.png", "model": "m"},
        T0 + 1,
    )
    bad = tracker.apply_event(
        {"generation_id": "b", "status": "failed", "error": "CUDA out of memory"}, T0 + 1
    )
    assert [(e.kind, e.source) for e in ok + bad] == [
        (EventKind.SUCCEEDED, "events"),
        (EventKind.FAILED, "events"),
    ]
    assert ok[0].generation.result_url == "https://hub/a.png"
    assert ok[0].generation.model_name == "flux-1-dev"  # what the poll knew is kept
    assert ok[0].generation.started_at == T0 - 30
    assert ok[0].generation.completed_at == T0 + 1
    assert bad[0].generation.error_message == "CUDA out of memory"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"status": "succeeded"},
        {"generation_id": "", "status": "succeeded"},
        {"generation_id": "a", "status": "cancelled"},
        {"generation_id": "a", "status": "weird"},
        {"generation_id": 5, "status": "failed"},
    ],
)
def test_malformed_or_foreign_stream_payloads_are_ignored(tracker: Tracker, payload: Any) -> None:
    tracker.observe([gen("a", "processing")], T0)
    assert tracker.apply_event(payload, T0 + 1) == []
    assert tracker.get("a").state is RowState.ACTIVE


def test_events_for_rows_outside_the_view_are_ignored_unless_watched(tracker: Tracker) -> None:
    tracker.observe([gen("a")], T0)
    other = {"generation_id": "zzz", "status": "succeeded", "url": "https://hub/z.png"}
    assert tracker.apply_event(other, T0 + 1) == []
    assert "zzz" not in tracker
    tracker.watch("zzz")
    assert tracker.unseen_watched() == ["zzz"]
    events = tracker.apply_event({**other, "model": "sdxl", "media_type": "image"}, T0 + 2)
    assert [e.kind for e in events] == [EventKind.SUCCEEDED]
    assert events[0].generation.model_name == "sdxl"
    assert tracker.unseen_watched() == []


def test_lifecycle_order_of_a_full_run(tracker: Tracker) -> None:
    seen: list[LifecycleEvent] = []
    seen += tracker.observe([gen("a")], T0)
    seen += tracker.observe([gen("a", "processing")], T0 + 2)
    seen += tracker.observe([], T0 + 4)
    seen += tracker.apply_outcome("a", "succeeded", T0 + 5, source="status-query")
    assert [e.kind.value for e in seen] == ["appeared", "started", "vanished", "succeeded"]
    assert [e.kind.order for e in seen] == sorted(e.kind.order for e in seen)


# -- filters and views ---------------------------------------------------------------------


def test_rows_outside_new_filters_are_out_of_view_not_finished(tracker: Tracker) -> None:
    flux = gen("a", model_name="flux-1-dev")
    veo = gen("b", model_name="veo-3-fast", media_type="video")
    tracker.observe([flux, veo], T0, filters=QueueFilters())
    events = tracker.observe([veo], T0 + 2, filters=QueueFilters(model="veo-3-fast"))
    assert events == []
    assert "a" not in tracker
    assert tracker.pending_ids() == []


def test_rows_first_seen_finished_report_their_outcome_once(tracker: Tracker) -> None:
    failed = QueueFilters(status="failed")
    row = gen("a", "failed", error_message="x", completed_at=T0 - 5)
    assert [e.kind for e in tracker.observe([row], T0, filters=failed)] == [EventKind.FAILED]
    assert tracker.observe([row], T0 + 2, filters=failed) == []
    # Listed rows of a terminal view do not expire while they are listed.
    assert tracker.observe([row], T0 + 5000, filters=failed) == []
    assert "a" in tracker


# -- linger, dismiss, memory -----------------------------------------------------------------


def test_finished_rows_linger_then_are_forgotten(tracker: Tracker) -> None:
    tracker.observe([gen("a", "processing")], T0)
    tracker.observe([gen("a", "succeeded", completed_at=T0 + 1)], T0 + 2)
    tracker.observe([], T0 + 4)
    assert tracker.get("a").generation.status == "succeeded"
    assert tracker.expire(T0 + 601) == []  # 599 s after it finished
    assert tracker.expire(T0 + 603) == ["a"]
    assert "a" not in tracker
    # The statistics keep it.
    assert [g.generation_id for g in tracker.history] == ["a"]


def test_polls_expire_lingering_rows_too(tracker: Tracker) -> None:
    tracker.observe([gen("a", "processing")], T0)
    tracker.apply_outcome("a", "failed", T0 + 1, source="events", error="boom")
    tracker.observe([], T0 + 2)
    assert "a" in tracker
    tracker.observe([], T0 + 700)
    assert "a" not in tracker


def test_dismiss_hides_a_finished_row_for_good(tracker: Tracker) -> None:
    tracker.observe([gen("a"), gen("b")], T0)
    assert tracker.dismiss("a") is False  # still in flight
    tracker.apply_outcome("a", "cancelled", T0 + 1, source="cancel")
    assert tracker.dismiss("a") is True
    assert "a" not in tracker
    # A listing that still shows it (finished) does not bring it back.
    assert tracker.observe([gen("a", "cancelled"), gen("b")], T0 + 3) == []
    assert "a" not in tracker


def test_memory_is_bounded_by_history_cap() -> None:
    tracker = Tracker(linger=10_000.0, history_cap=50, clock=lambda: T0)
    for batch in range(10):
        rows = [gen(f"g{batch}-{i}", "processing") for i in range(20)]
        tracker.observe(rows, T0 + batch * 10)
        for row in rows:
            tracker.apply_outcome(
                row.generation_id, "succeeded", T0 + batch * 10 + 1, source="events"
            )
    tracker.observe([], T0 + 200)
    finished = [t for t in tracker.tracked() if t.state is RowState.FINISHED]
    assert len(finished) <= 50
    assert len(tracker.history) == 50
    # The newest are the ones kept.
    assert tracker.history[-1].generation_id == "g9-19"
    assert len(tracker) <= 50


def test_depth_history_is_sampled_per_poll_and_bounded_in_time(tracker: Tracker) -> None:
    tracker.observe([gen("a"), gen("b"), gen("c", "processing")], T0)
    tracker.observe([gen("a"), gen("c", "processing")], T0 + 2)
    samples = tracker.depth_history
    assert [(s.queued, s.processing) for s in samples] == [(2, 1), (1, 1)]
    assert samples[0].by_model == {"flux-1-dev": 2}
    tracker.observe([], T0 + 1900)
    assert [s.at for s in tracker.depth_history] == [T0 + 1900]


def test_watched_ids_survive_the_linger(tracker: Tracker) -> None:
    tracker.watch("a")
    tracker.observe([gen("a", "processing")], T0)
    tracker.apply_outcome("a", "succeeded", T0 + 1, source="events")
    tracker.observe([], T0 + 5000)
    assert tracker.get("a").generation.status == "succeeded"


# -- output ----------------------------------------------------------------------------------


def test_json_and_text_lines_are_safe_with_hostile_text(tracker: Tracker) -> None:
    hostile = gen(
        "a\x1b]0;pwned\x07",
        "processing",
        model_name="[bold]x[/]\x1b[31m",
        error_message="line one\x1b[2J\nline two",
    )
    tracker.observe([hostile], T0)
    (event,) = tracker.apply_outcome(hostile.generation_id, "failed", T0 + 1, source="events")
    line = event.format_line()
    assert "\x1b" not in line and "\x07" not in line and "\n" not in line
    assert "error: line one" in line
    encoded = event.to_json()
    assert "\x1b" not in encoded and "\n" not in encoded
    data = json.loads(encoded)
    assert data["event"] == "failed"
    assert data["generation_id"] == hostile.generation_id  # exact, for scripts
    assert data["generation"]["model_name"] == "[bold]x[/]\x1b[31m"
    assert data["time"].startswith("2025-11-24T")


def test_text_line_carries_time_event_id_model_media_and_url(tracker: Tracker) -> None:
    tracker.observe([gen("abc", "processing", model_name="sdxl")], T0)
    (event,) = tracker.apply_event(
        {"generation_id": "abc", "status": "succeeded", "url": "https://hub/r.png"}, T0 + 1
    )
    fields = event.format_line().split("  ")
    assert fields[1].strip() == "succeeded"
    assert fields[2:] == ["abc", "sdxl", "image", "https://hub/r.png"]
