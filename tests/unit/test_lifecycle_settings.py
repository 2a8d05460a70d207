"""The dashboard's notification settings: `--bell` and `--notify-success`, config keys
`bell` and `notify_success` (CLI flags > config file > off)."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from queue_tui import cli
from queue_tui.config import Settings, resolve_settings


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OXEN_CONFIG_DIR": str(tmp_path / "oxen")}


def test_off_by_default(env: dict[str, str], tmp_path: Path) -> None:
    s = resolve_settings(env=env, config_file=tmp_path / "none.toml")
    assert s.bell is False and s.notify_success is False


def test_config_file_turns_them_on(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("bell = true\nnotify_success = true\n", encoding="utf-8")
    s = resolve_settings(env=env, config_file=config)
    assert s.bell is True and s.notify_success is True


def test_flags_beat_the_config_file(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("bell = false\nnotify_success = false\n", encoding="utf-8")
    s = resolve_settings(env=env, config_file=config, bell=True, notify_success=True)
    assert s.bell is True and s.notify_success is True


class _Terminal:
    def isatty(self) -> bool:
        return True


def run_dashboard_with(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    """Run `queue-tui ARGS` as if in a terminal; return the settings the dashboard got."""
    seen: list[Settings] = []

    def fake_run_dashboard(settings: Settings, **_: Any) -> None:
        seen.append(settings)

    monkeypatch.setattr("queue_tui.tui.app.run_dashboard", fake_run_dashboard)
    terminal = types.SimpleNamespace(stdout=_Terminal(), stdin=_Terminal(), exit=sys.exit)
    monkeypatch.setattr(cli, "sys", terminal)
    monkeypatch.setenv("QUEUE_TUI_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("OXEN_CONFIG_DIR", str(tmp_path / "oxen"))
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (settings,) = seen
    return settings


def test_cli_flags_reach_the_dashboard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plain = run_dashboard_with(["--demo"], monkeypatch, tmp_path)
    assert plain.bell is False and plain.notify_success is False
    loud = run_dashboard_with(
        ["--demo", "--bell", "--notify-success", "--linger", "0"], monkeypatch, tmp_path
    )
    assert loud.bell is True and loud.notify_success is True and loud.linger == 0


def test_help_lists_the_flags() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    assert "--bell" in result.output and "--notify-success" in result.output
