"""The one declaration of the columns, the statuses and the rules every view of a row
shares (queue_tui/core/columns.py, queue_tui/api/models.py)."""

from __future__ import annotations

from queue_tui import cli
from queue_tui.api.models import (
    ACTIVE_STATUSES,
    API_STATUSES,
    STATUSES,
    TERMINAL_STATUSES,
    Status,
    parse_generation,
)
from queue_tui.core.columns import (
    COLUMN_BY_NAME,
    COLUMN_NAMES,
    COLUMNS,
    DEFAULT_MARK,
    LIST_COLUMNS,
    durations,
    layout,
    list_columns,
    row_texts,
    status_label,
    wait_growing,
)
from queue_tui.demo import simulator


def test_every_column_is_one_entry_the_table_and_list_read() -> None:
    assert len(set(COLUMN_NAMES)) == len(COLUMNS)
    assert cli.LIST_COLUMNS == ("STATUS", "MODEL", "MEDIA", "AGE", "WAIT", "RUN", "REPO", "ID")
    # ...and ERROR when a printed row failed.
    assert [c.list_title for c in LIST_COLUMNS] == [*cli.LIST_COLUMNS, "ERROR"]
    assert all(c.sort is not None or not c.sort_static for c in COLUMNS)
    row = parse_generation({"generation_id": "g1", "status": "queued", "enqueued_at": 100})
    assert len(row_texts(row, 160.0)) == len(COLUMNS)


def test_the_status_table_gives_every_status_list() -> None:
    assert {s.value for s in Status} <= set(STATUSES)
    assert ACTIVE_STATUSES.isdisjoint(TERMINAL_STATUSES)
    assert "finishing" not in ACTIVE_STATUSES | TERMINAL_STATUSES
    # The demo hub keeps its own list (it plays the hub); the two must agree.
    assert API_STATUSES == simulator.STATUSES
    assert status_label("failed") == "✖ failed"


def test_a_growing_time_is_coarse_and_a_final_one_exact_everywhere() -> None:
    waiting = parse_generation({"generation_id": "w", "status": "queued", "enqueued_at": 0})
    done = parse_generation(
        {
            "generation_id": "d",
            "status": "succeeded",
            "enqueued_at": 0,
            "started_at": 0,
            "completed_at": 200,
        }
    )
    assert wait_growing(waiting) and not wait_growing(done)
    assert durations(waiting, 200.0) == ("3m", "—")
    assert durations(done, 500.0) == ("0s", "3m20s")
    # `list` prints exact times, growing or not.
    line = cli.format_table([waiting], 200.0).splitlines()[1].split()
    assert line[3:5] == ["3m20s", "3m20s"]


def test_list_and_table_show_a_bad_field_the_same_way() -> None:
    row = parse_generation(
        {
            "generation_id": "bad-1",
            "status": "queued",
            "model_name": ["flux"],
            "enqueued_at": "yesterday",
            "target_namespace": "ns",
            "target_repo": {"r": 1},
        }
    )
    cells = dict(zip(COLUMN_NAMES, row_texts(row, 100.0, DEFAULT_MARK), strict=True))
    listed = {
        c.name: text
        for c, text in zip(
            list_columns([row]), cli.format_table([row], 100.0).splitlines()[1].split(), strict=True
        )
    }
    for name in ("model", "age", "wait", "target"):
        assert cells[name] == listed[name], name
    assert listed["model"] == "?" and listed["target"] == "ns/?"


def test_a_narrow_table_drops_the_prompt_then_the_target() -> None:
    fitted = {"model": 10, "target": 12}
    wide, _ = layout(200, fitted, 2)
    middle, _ = layout(95, fitted, 2)
    narrow, widths = layout(60, fitted, 2)
    assert "prompt" in wide and "target" in wide
    assert "prompt" not in middle and "target" in middle
    assert "target" not in narrow and widths["model"] == 8


def test_list_adds_the_error_column_for_failed_rows_but_the_table_does_not_yet() -> None:
    tb = 'Traceback (most recent call last):\n  File "w.py", line 1\nValueError: bad seed\n'
    failed = parse_generation({"generation_id": "f1", "status": "failed", "error_message": tb})
    mute = parse_generation({"generation_id": "f2", "status": "failed"})
    queued = parse_generation({"generation_id": "q1", "status": "queued"})
    header, *lines = cli.format_table([failed, mute, queued], 100.0).splitlines()
    assert header.split()[-2:] == ["ID", "ERROR"]
    assert lines[0].endswith("  f1  ValueError: bad seed")
    assert lines[1].endswith("  f2  —")  # failed without a message
    assert lines[2].split()[-1] == "q1"  # not failed: no error
    assert "ERROR" not in cli.format_table([queued], 100.0)
    # Declared in COLUMNS, but the dashboard's table does not show it yet.
    assert not COLUMN_BY_NAME["error"].shown_by_default
    for width in (60, 120, 400):
        assert "error" not in layout(width, {"model": 22, "target": 34}, 2)[0]


def test_list_cuts_long_values_for_a_terminal_and_keeps_them_whole_otherwise() -> None:
    repo = "a-rather-long-repository-name/with/several/folders/deep"
    row = parse_generation(
        {"generation_id": "g1", "status": "queued", "model_name": "m" * 40, "target_repo": repo}
    )
    cut = cli.format_table([row], 100.0).splitlines()[1].split()
    whole = cli.format_table([row], 100.0, whole=True).splitlines()[1].split()
    assert (cut[1], cut[-2]) == ("m" * 27 + "…", repo[:35] + "…")
    assert (whole[1], whole[-2]) == ("m" * 40, repo)
