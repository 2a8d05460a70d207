"""The README's Quick start is a promise: two commands, and CI runs the second verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.DOTALL)
    assert block, "Quick start has no code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    assert "--demo" in commands[0]
    assert "pytest" in commands[1]


def test_each_command_makes_its_own_venv_and_the_dashboard_needs_no_test_tools() -> None:
    # A distribution Python refuses a system-wide pip install (PEP 668): each line works
    # from a plain shell; the dashboard's line installs only the runtime dependencies.
    demo, tests = quick_start_commands()
    for command in (demo, tests):
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install"), command
    assert "[test]" not in demo and "[test]" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = quick_start_commands()[1]
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert any(line.startswith(test_command) for line in ci_lines), (test_command, ci_lines)
