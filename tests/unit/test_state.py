"""Remembered preferences (`queue_tui.state`): round trip, atomic private writes, a
broken file ignored with a notice, values that mean nothing now dropped."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from queue_tui.state import (
    CHOOSABLE_COLUMNS,
    REQUIRED_COLUMNS,
    UiState,
    load_state,
    save_state,
    state_path,
)

THEMES = {"textual-dark", "nord", "gruvbox"}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "queue-tui" / "state.json"


def test_the_path_follows_xdg_state_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_path() == tmp_path / "xdg" / "queue-tui" / "state.json"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_path() == tmp_path / "home" / ".local" / "state" / "queue-tui" / "state.json"


def test_no_file_is_the_defaults_without_a_notice(path: Path):
    assert load_state(path, themes=THEMES) == (UiState(), [])


def test_round_trip(path: Path):
    state = UiState(
        theme="nord",
        sort_column="age",
        sort_reverse=False,
        show_finished=False,
        show_detail=False,
        columns=["status", "model", "age", "id"],
    )
    save_state(state, path)
    assert load_state(path, themes=THEMES) == (state, [])


def test_the_default_path_is_used(isolated_state: Path):
    save_state(UiState(theme="nord"))
    assert isolated_state.is_file()
    assert load_state(themes=THEMES)[0].theme == "nord"


def test_the_file_is_private_and_no_temp_file_is_left(path: Path):
    save_state(UiState(theme="nord"), path)
    path.chmod(0o644)  # a file from elsewhere with wider permissions
    save_state(UiState(theme="gruvbox"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]
    assert json.loads(path.read_text()) == {"theme": "gruvbox"}


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    path: Path, monkeypatch: pytest.MonkeyPatch
):
    save_state(UiState(theme="nord"), path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("queue_tui.state.os.replace", broken_replace)
    with pytest.raises(OSError):
        save_state(UiState(theme="gruvbox"), path)
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]
    assert json.loads(path.read_text()) == {"theme": "nord"}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "the file"),
        (b'{"theme": 3}', "theme"),
        (b'{"show_finished": "yes"}', "show_finished"),
        (b'{"columns": "status"}', "columns"),
        (b'{"colour": "blue"}', "colour"),
    ],
)
def test_a_broken_file_is_ignored_with_a_notice(path: Path, content: bytes, why: str):
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    state, notices = load_state(path, themes=THEMES)
    assert state == UiState()
    assert len(notices) == 1
    assert str(path) in notices[0] and why in notices[0]


def test_unknown_values_are_dropped_quietly(path: Path):
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "theme": "gone-theme",
                "sort_column": "gone-column",
                "sort_reverse": True,
                "show_detail": False,
                "columns": ["model", "gone", "media"],
            }
        )
    )
    state, notices = load_state(path, themes=THEMES)
    assert notices == []
    assert state.theme is None
    assert state.sort_column is None and state.sort_reverse is None
    assert state.show_detail is False
    # In table order, the required ones always in.
    assert state.columns == [
        n for n in CHOOSABLE_COLUMNS if n in {"model", "media"} | REQUIRED_COLUMNS
    ]


def test_the_queue_order_is_a_sort(path: Path):
    save_state(UiState(sort_column="queue", sort_reverse=True), path)
    assert load_state(path)[0].sort_column == "queue"
