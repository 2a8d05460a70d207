"""`queue_tui.cli` pauses the cyclic GC while it imports its modules (see the top of
cli.py): afterwards the collector is as it was, and what the imports made is frozen."""

from __future__ import annotations

import json
import subprocess
import sys


def run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)


def test_importing_the_cli_restores_the_collector_and_freezes_the_imports() -> None:
    result = run(
        "import gc, json\n"
        "import queue_tui.cli as cli\n"
        "frozen = gc.get_freeze_count()\n"
        "with cli.imports_paused_gc():\n"
        "    inside = gc.isenabled()\n"
        "    import queue_tui.tui.app\n"
        "print(json.dumps({'enabled': gc.isenabled(), 'frozen': frozen, 'inside': inside,\n"
        "                  'more': gc.get_freeze_count() > frozen}))\n"
    )
    assert result["enabled"] is True
    assert result["frozen"] > 10_000  # click, httpx, pydantic, the models...
    assert result["inside"] is False
    assert result["more"] is True  # ...and then Textual and the dashboard


def test_a_disabled_collector_stays_disabled() -> None:
    result = run(
        "import gc, json\n"
        "gc.disable()\n"
        "import queue_tui.cli as cli\n"
        "with cli.imports_paused_gc():\n"
        "    pass\n"
        "print(json.dumps({'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )
    # Nothing frozen either: freezing is part of restoring a collector that was on.
    assert result == {"enabled": False, "frozen": 0}
