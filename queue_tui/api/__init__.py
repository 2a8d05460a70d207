"""Hub API: models, errors, client.

httpx is imported here, once, without its command-line tool: `httpx/__init__.py` tries
`from ._main import main` (click, rich.progress, rich.syntax and so pygments: about 20 ms
of the dashboard's start-up) and falls back to a stub `httpx.main` when that import
fails. A `None` in `sys.modules` makes it fail for the length of our import only, so
`import httpx._main` still works afterwards for anyone who wants it. It applies when
this package is imported before httpx, as `queue_tui.cli` does (its first queue_tui
import is `queue_tui.api.errors`). Tested in tests/unit/test_httpx_without_cli.py.
"""

from __future__ import annotations

import sys


def _import_httpx_without_its_cli() -> None:
    if "httpx" in sys.modules:
        return
    blocked = "httpx._main" not in sys.modules
    if blocked:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    finally:
        if blocked and sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]


_import_httpx_without_its_cli()
