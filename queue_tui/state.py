"""Remembered preferences: what the user chose in the dashboard, kept across restarts.

The theme, the sort (column and direction), whether finished rows are hidden (`h`),
whether the detail pane is shown (`d`) and the chosen columns live in
`$XDG_STATE_HOME/queue-tui/state.json` (default `~/.local/state/queue-tui/state.json`).
It is written whole and atomically (a private temp file in the same folder, then
`os.replace`), mode 0600, when a preference changes. A broken file (not JSON, a value of
the wrong type, an unknown key) is ignored with a notice, never a crash; a value that no
longer means anything (a theme or a column that is gone) is dropped quietly. Flags and
the config file win over it: the app applies a remembered theme only when no setting
gave one.

No Textual here: the app passes in what it knows (its themes) and calls `load_state` /
`save_state`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Collection
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from queue_tui.core.columns import COLUMNS, SORT_BY_NAME
from queue_tui.logsetup import open_private
from queue_tui.sanitize import clean

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
#: The columns the user can show or hide (the table's), in table order.
CHOOSABLE_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.in_table)
#: Always shown: what a row is and which one it is.
REQUIRED_COLUMNS: frozenset[str] = frozenset({"status", "id"})
#: Larger than this is not a state file we wrote.
MAX_STATE_BYTES = 64 * 1024


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME")
    return (Path(base) if base else Path.home() / ".local" / "state") / "queue-tui"


def state_path() -> Path:
    return state_dir() / STATE_FILE


class UiState(BaseModel):
    """The remembered preferences; None: nothing remembered (the default applies)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    theme: str | None = None
    #: A column name or the queue order (`SORT_BY_NAME`), and its direction.
    sort_column: str | None = None
    sort_reverse: bool | None = None
    show_finished: bool | None = None
    show_detail: bool | None = None
    #: The columns the user chose to show (the required ones are always shown).
    columns: list[str] | None = None

    def known(self, themes: Collection[str] | None = None) -> UiState:
        """This state without values that mean nothing now: a theme not in `themes`
        (when given), a sort column or a chosen column that is gone."""
        theme = self.theme
        if theme is not None and themes is not None and theme not in themes:
            theme = None
        sort_column, sort_reverse = self.sort_column, self.sort_reverse
        if sort_column is not None and sort_column not in SORT_BY_NAME:
            sort_column, sort_reverse = None, None
        columns = self.columns
        if columns is not None:
            chosen = set(columns) | REQUIRED_COLUMNS
            columns = [name for name in CHOOSABLE_COLUMNS if name in chosen]
        return self.model_copy(
            update={
                "theme": theme,
                "sort_column": sort_column,
                "sort_reverse": sort_reverse,
                "columns": columns,
            }
        )


def load_state(
    path: Path | None = None, *, themes: Collection[str] | None = None
) -> tuple[UiState, list[str]]:
    """The remembered state and notices for the user (one line each). No file: the
    defaults, no notice. A broken file: the defaults and a notice naming the file."""
    path = path or state_path()
    try:
        raw = path.read_bytes()[: MAX_STATE_BYTES + 1]
    except FileNotFoundError:
        return UiState(), []
    except OSError as exc:
        return UiState(), [_notice(path, f"cannot read it ({exc.strerror})")]
    if len(raw) > MAX_STATE_BYTES:
        return UiState(), [_notice(path, "too large")]
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return UiState(), [_notice(path, "not valid JSON")]
    try:
        state = UiState.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "the file"
        return UiState(), [_notice(path, f"{where}: {error['msg']}")]
    return state.known(themes), []


def _notice(path: Path, why: str) -> str:
    return clean(f"Remembered preferences ignored: {path}: {why}", max_len=300)


def save_state(state: UiState, path: Path | None = None) -> None:
    """Write `state` to `path` atomically (a temp file in the same folder, 0600, then
    `os.replace`). Raises OSError (the caller decides how loud to be)."""
    path = path or state_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = state.model_dump_json(exclude_none=True, indent=2) + "\n"
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.close(fd)
        fd = open_private(temp)  # 0600 (mkstemp's own mode, checked the project's way)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


__all__ = [
    "CHOOSABLE_COLUMNS",
    "REQUIRED_COLUMNS",
    "UiState",
    "load_state",
    "save_state",
    "state_path",
]
