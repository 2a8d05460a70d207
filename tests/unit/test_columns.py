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
from queue_tui.core.timefmt import COARSE_WIDTH, fmt_coarse
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


def test_a_growing_time_is_coarse_and_a_final_one_exact_but_coarse_in_the_table() -> None:
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
    # The table: one precision for every time (no `AGE 8m` beside `RUN 3m20s`).
    cells = dict(zip(COLUMN_NAMES, row_texts(done, 500.0), strict=True))
    assert (cells["age"], cells["wait"], cells["run"]) == ("8m", "0s", "3m")
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


ALWAYS = ["status", "model", "age", "id"]
#: The optional columns, the first to go on a narrow terminal last.
BY_PRIORITY = ["eta", "run", "wait", "media", "target", "prompt", "error"]


def test_a_narrow_table_keeps_status_model_age_and_id_and_drops_media_target_prompt_first():
    fitted = {"model": 10, "target": 12}
    wide, _ = layout(200, fitted, 2)
    assert set(wide) == set(ALWAYS + BY_PRIORITY[:-1]), "error: only beside failed rows"
    at_80, _ = layout(79, fitted, 2)  # (the table beside its scrollbar)
    assert at_80 == ["status", "model", "media", "age", "wait", "run", "eta", "id"]
    at_60, _ = layout(59, fitted, 2)
    assert at_60 == ["status", "model", "age", "run", "eta", "id"]
    middle, _ = layout(95, fitted, 2)
    assert "prompt" not in middle and "target" in middle
    for width in range(44, 240):
        for present in ((), ("error",)):
            shown, widths = layout(width, fitted, 2, present)
            assert set(ALWAYS) <= set(shown), width
            # The optional ones shown are the first of the priority order.
            optional = [c for c in BY_PRIORITY if c in shown]
            assert optional == BY_PRIORITY[: len(optional)], (width, shown)
            assert sum(widths[c] + 2 for c in shown) <= width, (width, widths)
    # The ETA gets on screen at 60 columns even beside a long model name (cut for it).
    squeezed, widths = layout(59, {"model": 22, "target": 12}, 2)
    assert squeezed == ["status", "model", "age", "eta", "id"] and widths["model"] == 18
    narrow, widths = layout(44, {"model": 22, "target": 12}, 2)
    assert narrow == ALWAYS and widths["model"] == 9, "the model column gives up some"


def test_list_and_the_table_add_the_error_column_for_failed_rows() -> None:
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
    # The table: only while a failed row is shown, and the first column to go.
    assert not COLUMN_BY_NAME["error"].shown_by_default
    fitted = {"model": 22, "target": 34}
    for width in (60, 120, 400):
        assert "error" not in layout(width, fitted, 2)[0]
    assert layout(160, fitted, 2, {"error"})[0][-2:] == ["id", "error"]
    assert "error" not in layout(110, fitted, 2, {"error"})[0]
    assert "prompt" in layout(110, fitted, 2, {"error"})[0]
    cells = dict(zip(COLUMN_NAMES, row_texts(failed, 100.0), strict=True))
    assert cells["error"] == "ValueError: bad seed"
    assert dict(zip(COLUMN_NAMES, row_texts(queued, 100.0), strict=True))["error"] == ""


def test_list_cuts_long_values_for_a_terminal_and_keeps_them_whole_otherwise() -> None:
    repo = "a-rather-long-repository-name/with/several/folders/deep"
    row = parse_generation(
        {"generation_id": "g1", "status": "queued", "model_name": "m" * 40, "target_repo": repo}
    )
    cut = cli.format_table([row], 100.0).splitlines()[1].split()
    whole = cli.format_table([row], 100.0, whole=True).splitlines()[1].split()
    assert (cut[1], cut[-2]) == ("m" * 27 + "…", repo[:35] + "…")
    assert (whole[1], whole[-2]) == ("m" * 40, repo)


def test_a_time_cell_fits_its_column_however_old_the_row() -> None:
    """`370d1…`: the formatter's longest output fits the time columns."""
    widths = {c.name: c.width for c in COLUMNS if c.name in ("age", "wait", "run")}
    assert set(widths.values()) == {COARSE_WIDTH}
    seconds = [0, 59, 60, 3599, 3600, 86399, 86400, 863999, 864000, 370 * 86400]
    seconds += [999 * 86400 + 86399, 1000 * 86400, 40 * 365 * 86400, 1e12, 1e18, 1e300]
    seconds += [10**k + d for k in range(1, 15) for d in (-1, 0, 1)]
    for s in seconds:
        assert len(fmt_coarse(s)) <= COARSE_WIDTH, (s, fmt_coarse(s))
    assert fmt_coarse(370 * 86400 + 3600) == "370d"
    assert fmt_coarse(9 * 86400 + 23 * 3600) == "9d23h"
    assert fmt_coarse(3 * 365 * 86400) == "3y"
    old = parse_generation(
        {
            "generation_id": "o",
            "status": "processing",
            "enqueued_at": 0,
            "started_at": 0,
        }
    )
    now = 370.5 * 86400
    cells = dict(zip(COLUMN_NAMES, row_texts(old, now), strict=True))
    assert (cells["age"], cells["wait"], cells["run"]) == ("370d", "0s", "370d")
