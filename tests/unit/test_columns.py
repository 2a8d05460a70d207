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
    COLUMN_NAMES,
    COLUMNS,
    DEFAULT_MARK,
    LIST_COLUMNS,
    durations,
    layout,
    row_texts,
    status_label,
    wait_growing,
)
from queue_tui.demo import simulator


def test_every_column_is_one_entry_the_table_and_list_read() -> None:
    assert len(set(COLUMN_NAMES)) == len(COLUMNS)
    assert cli.LIST_COLUMNS == ("STATUS", "MODEL", "MEDIA", "AGE", "WAIT", "RUN", "REPO", "ID")
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
            LIST_COLUMNS, cli.format_table([row], 100.0).splitlines()[1].split(), strict=True
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
