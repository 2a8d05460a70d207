"""`python -m queue_tui.screenshots [OUT_DIR] [--png]`: render the dashboard's
screenshots (seeded demo hub, frozen clock) into `screenshots/`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    # Deferred: only the dashboard package may import Textual at module level.
    from queue_tui.tui.screenshots import main as render

    return render(argv)


if __name__ == "__main__":
    sys.exit(main())
