"""The headless core never imports Textual: only `queue_tui/tui/` may (and the
screenshot tool `queue_tui/screenshots/`, which puts the dashboard and the demo hub
together).

Two checks: a static one (every import statement in every module, at any depth), and a
live one (import every non-tui module in a fresh interpreter, then look at sys.modules).
Rich is not banned: httpx itself imports it whenever it is installed.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "queue_tui"
TUI = PACKAGE / "tui"
SCREENSHOTS = PACKAGE / "screenshots"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def headless_files() -> list[Path]:
    return sorted(
        p for p in PACKAGE.rglob("*.py") if TUI not in p.parents and SCREENSHOTS not in p.parents
    )


def imported_modules(path: Path) -> list[tuple[str, int, bool]]:
    """(module, line, at_module_level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top_level = {id(node) for node in tree.body}
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found: list[tuple[str, int, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((name, node.lineno, id(node) in top_level))
    return found


def test_the_walk_sees_the_package() -> None:
    names = {module_name(p) for p in headless_files()}
    assert {"queue_tui.cli", "queue_tui.api.client", "queue_tui.core.poller"} <= names
    assert not any(n.startswith("queue_tui.tui") for n in names)


@pytest.mark.parametrize("path", headless_files(), ids=lambda p: module_name(p))
def test_no_textual_import_outside_tui(path: Path) -> None:
    for name, line, at_top in imported_modules(path):
        where = f"{path.relative_to(PACKAGE.parent)}:{line}"
        assert name.split(".")[0] != "textual", f"{where} imports {name}"
        # The dashboard may be started from the CLI, but only by a deferred import.
        if name.startswith("queue_tui.tui"):
            assert not at_top, f"{where} imports {name} at module level"


def test_importing_every_headless_module_loads_no_textual() -> None:
    modules = [module_name(p) for p in headless_files() if p.name != "__main__.py"]
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] == 'textual' or m.startswith('queue_tui.tui'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []
