"""Files the app writes (`--log`, `--record`) hold prompts and errors from the hub: they
are 0600 whether new or already there with wider permissions."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from queue_tui.api.recording import RecordingTransport
from queue_tui.logsetup import open_private, setup_logging


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    path = tmp_path / "existing"
    path.write_text("earlier line\n", encoding="utf-8")
    path.chmod(0o644)
    return path


def test_open_private_creates_0600_and_tightens_an_existing_file(
    tmp_path: Path, existing: Path, loose_umask: None
) -> None:
    os.close(open_private(tmp_path / "new"))
    assert mode(tmp_path / "new") == 0o600
    os.close(open_private(existing))
    assert mode(existing) == 0o600
    assert existing.read_text(encoding="utf-8") == "earlier line\n"  # appended to, kept


@pytest.mark.parametrize("new", [True, False], ids=["new", "existing-0644"])
def test_log_file_is_0600(tmp_path: Path, existing: Path, loose_umask: None, new: bool) -> None:
    path = tmp_path / "debug.log" if new else existing
    try:
        setup_logging(path)
    finally:
        setup_logging(None)
    assert mode(path) == 0o600


@pytest.mark.parametrize("new", [True, False], ids=["new", "existing-0644"])
async def test_recording_file_is_0600(
    tmp_path: Path, existing: Path, loose_umask: None, new: bool
) -> None:
    path = tmp_path / "rec.jsonl" if new else existing
    transport = RecordingTransport(httpx.MockTransport(lambda r: httpx.Response(200)), path)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.example") as http:
        await http.get("/api/ai/queue")
    assert mode(path) == 0o600
    assert path.read_text(encoding="utf-8").count("\n") == (1 if new else 2)
