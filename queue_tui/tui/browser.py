"""Whether `o` can show a page in a browser here (no Textual: unit-tested on its own).

Over ssh (the normal case) `webbrowser.open` finds no browser, or a text one that would
take over the dashboard's terminal, and the user is told nothing: `o` then copies the
URL instead and says why.
"""

from __future__ import annotations

import os
import sys
import webbrowser
from collections.abc import Callable, Mapping

#: Browsers that run in the terminal (they would draw over the dashboard).
TEXT_BROWSERS = frozenset({"browsh", "elinks", "links", "links2", "lynx", "w3m", "www-browser"})


def no_browser_reason(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    get: Callable[[], object] | None = None,
) -> str | None:
    """Why no browser can show a page to the user here ("ssh session", "no display",
    "no browser found", "only a text browser: lynx"), or None when one can.

    `get` (default `webbrowser.get`) may start a process to ask for the default browser: call
    this off the UI thread."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"):
        # A browser would open on the remote machine, not in front of the user.
        return "ssh session"
    if (
        platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))
        and not env.get("DISPLAY")
        and not env.get("WAYLAND_DISPLAY")
    ):
        return "no display"
    try:
        browser = (get or webbrowser.get)()
    except webbrowser.Error:
        return "no browser found"
    command = str(getattr(browser, "name", "") or "").split()
    name = os.path.basename(command[0]) if command else ""
    if name in TEXT_BROWSERS:
        return f"only a text browser: {name}"
    return None
