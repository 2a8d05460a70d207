"""`queue_tui.api` imports httpx without httpx's command-line tool (see its docstring):
the CLI's start-up does not pay for click/rich.syntax/pygments through `httpx._main`,
and httpx still works."""

from __future__ import annotations

import json
import subprocess
import sys


def run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)


def test_the_cli_import_does_not_load_httpx_main_and_httpx_still_works() -> None:
    result = run(
        "import json, sys\n"
        "import queue_tui.cli\n"
        "import httpx\n"
        "loaded = sorted(m for m in ('httpx._main', 'pygments', 'rich.syntax') "
        "if m in sys.modules)\n"
        "def handler(request):\n"
        "    return httpx.Response(200, json={'path': request.url.path})\n"
        "with httpx.Client(transport=httpx.MockTransport(handler)) as client:\n"
        "    body = client.get('http://hub.test/api/ai/queue').json()\n"
        "blocked = sys.modules.get('httpx._main', 'absent')\n"
        "print(json.dumps({'loaded': loaded, 'body': body, 'blocked': repr(blocked)}))\n"
    )
    assert result["loaded"] == []
    assert result["body"] == {"path": "/api/ai/queue"}
    # The block only lasts for the import: no None is left behind in sys.modules.
    assert result["blocked"] == "'absent'"


def test_httpx_main_can_still_be_imported_afterwards() -> None:
    result = run(
        "import json, sys\n"
        "import queue_tui.api\n"
        "import httpx._main\n"
        "print(json.dumps({'main': callable(httpx._main.main)}))\n"
    )
    assert result == {"main": True}


def test_without_queue_tui_httpx_loads_its_cli_as_usual() -> None:
    """The guard is what keeps `httpx._main` out (this test fails if httpx stops
    importing its CLI, and the guard can go)."""
    result = run(
        "import json, sys\n"
        "import httpx\n"
        "print(json.dumps({'main': 'httpx._main' in sys.modules}))\n"
    )
    assert result == {"main": True}
