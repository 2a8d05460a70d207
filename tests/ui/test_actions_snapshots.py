"""Snapshots of actions on many rows (#14) at 80x24: marked rows, and the confirmations
of a bulk cancel and of a resubmit (which shows the first request's body).

Same ground rules as `test_snapshots.py`: the seeded demo hub on a frozen clock, toasts
cleared before the picture. Regenerate with `--snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

from tests.ui.conftest import make_app
from tests.ui.test_lifecycle_snapshots import SMALL, press, settled


class TestMarks:
    def test_80x24_marked_rows_have_a_bar_at_their_left_edge_and_the_bar_counts_them(
        self, snap_compare
    ):
        assert snap_compare(
            make_app(),
            terminal_size=SMALL,
            run_before=settled(press("space", "space", "j", "space")),
        )


class TestConfirmations:
    def test_80x24_cancel_of_marked_rows_lists_them_and_asks_first(self, snap_compare):
        marks = press("j", "space", "space", "space", "space", "C")
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=settled(marks))

    def test_80x24_resubmit_shows_the_first_request_and_asks_first(self, snap_compare):
        marks = press("space", "space", "space", "R")
        app = make_app(status="failed")
        assert snap_compare(app, terminal_size=SMALL, run_before=settled(marks))
