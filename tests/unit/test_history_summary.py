"""Money formatting and the history's tallies: exact sums, the display precision, and
count / failures / spend per model, day and user."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from queue_tui.api.models import PastGeneration, parse_generation
from queue_tui.core import money
from queue_tui.core.history import UNKNOWN, Summary, Tally, group_key

DAY_ONE = time.mktime((2025, 11, 24, 12, 0, 0, 0, 0, -1))  # local noon
DAY_TWO = DAY_ONE + 86_400


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0.04", "$0.04"),
        ("0.0400", "$0.04"),  # trailing zeros are not precision
        ("0.0035", "$0.0035"),
        ("1", "$1.00"),
        ("0", "$0.00"),
        ("1234.5", "$1,234.50"),
        ("761.4155", "$761.4155"),
        ("1E+3", "$1,000.00"),
        ("-0.5", "-$0.50"),
        ("0.12345", "~$0.1235"),  # more than 4 places: rounded half-up, and marked
        ("0.00004", "<$0.0001"),  # not nothing, even though it rounds to it
    ],
)
def test_money_shows_at_least_two_places_and_up_to_four(amount: str, shown: str) -> None:
    assert money.format_money(Decimal(amount)) == shown


def test_money_in_a_column_of_fixed_places_and_a_missing_amount() -> None:
    assert money.format_money(Decimal("0.0035"), decimals=2) == "<$0.01"
    assert money.format_money(Decimal("2.125"), decimals=2) == "~$2.13"
    assert money.format_money(Decimal("2.10"), decimals=2) == "$2.10"
    assert money.format_money(None) == "—"
    assert money.format_money(None, missing="?") == "?"


def test_sums_are_exact_however_many_and_however_fine() -> None:
    total = money.ZERO
    for _ in range(10_000):
        total = money.add(total, Decimal("0.0001"))
    assert total == Decimal("1")
    # 33 significant digits: more than the default context's 28 would keep.
    big = money.add(Decimal("999999999999999"), Decimal("0.000000000000000001"))
    assert big == Decimal("999999999999999.000000000000000001")


def past(gid: str, **kw: Any) -> PastGeneration:
    row: dict[str, Any] = {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "status": "succeeded",
        "enqueued_at": DAY_ONE,
        "cost": "0.025",
        "username": "maya",
        "user_id": "u_1",
    }
    row.update(kw)
    return parse_generation(row, PastGeneration)


def test_a_tally_counts_outcomes_and_the_failure_rate_as_the_stats_panel_does() -> None:
    tally = Tally()
    for gen in [
        past("a"),
        past("b", status="failed", cost="0.00"),
        past("c", status="cancelled", cost="0.00"),
        past("d", status="queued", cost=None),
        past("e", cost="bogus"),
    ]:
        tally.add(gen)
    assert (tally.count, tally.succeeded, tally.failed, tally.cancelled) == (5, 2, 1, 1)
    assert tally.spend == Decimal("0.025") and tally.no_cost == 2
    # failed / (succeeded + failed): cancelled and unfinished rows are neither.
    assert tally.failure_rate == pytest.approx(1 / 3)
    assert tally.failure_text() == "33.3% failed (1 of 3 that ran to an end)"
    assert Tally().failure_rate is None and Tally().failure_text() == ""


def test_a_summary_groups_by_model_local_day_and_user() -> None:
    summary = Summary()
    rows = [
        past("a", model_name="veo-3-fast", cost="1.20", username="priya"),
        past("b", model_name="veo-3-fast", status="failed", cost="0.00", enqueued_at=DAY_TWO),
        past("c", cost="0.025", enqueued_at=DAY_TWO),
        past("d", cost="0.0035", model_name="flux-1-schnell", username=None, user_id="u_9"),
        past("e", enqueued_at=None, username=None, user_id=None, model_name=["x"]),
    ]
    for gen in rows:
        summary.add(gen)
    by_model = {key: (t.count, t.failed, t.spend) for key, t in summary.rows("model")}
    assert by_model == {
        "veo-3-fast": (2, 1, Decimal("1.20")),
        "flux-1-dev": (1, 0, Decimal("0.025")),
        "flux-1-schnell": (1, 0, Decimal("0.0035")),
        UNKNOWN: (1, 0, Decimal("0.025")),
    }
    # Models and users by spend, largest first; days oldest first, the unknown last.
    assert [key for key, _ in summary.rows("model")][:2] == ["veo-3-fast", UNKNOWN]
    day_one, day_two = (time.strftime("%Y-%m-%d", time.localtime(t)) for t in (DAY_ONE, DAY_TWO))
    assert [(k, t.count) for k, t in summary.rows("day")] == [
        (day_one, 2),
        (day_two, 2),
        (UNKNOWN, 1),
    ]
    users = {key: t.count for key, t in summary.rows("user")}
    assert users == {"priya": 1, "maya": 2, "u_9": 1, UNKNOWN: 1}
    assert summary.total.count == 5 and summary.total.spend == Decimal("1.2535")
    assert group_key(rows[0], "day") == day_one
