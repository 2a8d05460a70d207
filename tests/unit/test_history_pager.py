"""`core.history`: the pager against a stubbed hub (respx) that caps its pages, breaks
ties in its own order, and gets new rows at its head between two requests; the time
range; the totals line's honesty about which figure is whose."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from queue_tui.api.client import GENERATIONS_PATH, QueueClient
from queue_tui.api.errors import BadPayloadError, ServerError
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings
from queue_tui.core.history import (
    STALL_PAGES,
    HistoryPager,
    TimeRange,
    parse_when,
    stream_history,
    time_range,
)

HOST = "https://hub.test"
NOW = 1_764_000_000


def make_row(i: int, enqueued: float | None, *, cost: str = "0.01", **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "generation_id": f"g{i:05d}",
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "failed" if i % 10 == 0 else "succeeded",
        "enqueued_at": enqueued,
        "cost": cost,
    }
    out.update(kw)
    return out


class FakeHub:
    """A history newest first (the list's order is the hub's), `cap` rows a page at
    most, whatever was asked; `between(hub)` runs after each page is answered."""

    def __init__(self, rows: list[dict[str, Any]], *, cap: int = 7) -> None:
        self.rows = rows
        self.cap = cap
        self.asked: list[tuple[int, int]] = []
        self.between: Callable[[FakeHub], None] | None = None
        self.echo_page = True
        self.total_pages = True
        self.fail_next: int | None = None
        self.ignore_page = False
        self.made = len(rows)

    def total_cost(self) -> str:
        return str(sum((Decimal(r["cost"]) for r in self.rows), Decimal("0.00")))

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return httpx.Response(status)
        page = 1 if self.ignore_page else int(request.url.params["page"])
        asked = int(request.url.params["page_size"])
        self.asked.append((page, asked))
        size = min(asked, self.cap)
        rows = self.rows[(page - 1) * size : page * size]
        body: dict[str, Any] = {
            "count": len(rows),
            "generations": rows,
            "page_size": size,
            "total_entries": len(self.rows),
            "total_cost": self.total_cost(),
        }
        if self.echo_page:
            body["page_number"] = page
        if self.total_pages:
            body["total_pages"] = max(1, -(-len(self.rows) // size))
        response = httpx.Response(200, json=body)
        if self.between is not None:
            self.between(self)
        return response

    def arrive(self, k: int, at: float) -> None:
        """`k` new rows at the head, enqueued at `at`."""
        new = [make_row(self.made + j, at, cost="1.00") for j in range(k)]
        self.made += k
        self.rows[:0] = new


@pytest.fixture
def hub_mock() -> Any:
    with respx.mock(base_url=HOST, assert_all_called=False) as mock:
        yield mock


def serve(mock: respx.Router, hub: FakeHub) -> None:
    mock.get(GENERATIONS_PATH).mock(side_effect=hub.answer)


def client() -> QueueClient:
    return QueueClient(Settings(host=HOST, token="tok", token_source="--token"))


def history(n: int, *, seconds_apart: float = 1.0, start: float = NOW - 10) -> list[dict]:
    return [make_row(i, start - i * seconds_apart) for i in range(n)]


async def listed(pager: HistoryPager) -> list[str]:
    return [row.generation_id async for row in stream_history(pager)]


async def test_a_hub_that_caps_pages_lower_than_asked_is_followed_to_its_last_page(
    hub_mock: respx.Router,
) -> None:
    hub = FakeHub(history(50), cap=7)
    serve(hub_mock, hub)
    async with client() as c:
        pager = HistoryPager(c, page_size=1000)
        ids = await listed(pager)
    assert ids == [r["generation_id"] for r in hub.rows]
    assert hub.asked == [(p, 1000) for p in range(1, 9)]  # ceil(50 / 7) pages
    assert pager.stopped == "end" and pager.complete
    assert pager.hub_page_size == 7 and pager.hub_pages == 8
    assert pager.listed.count == 50 and pager.listed.spend == Decimal("0.50")


@pytest.mark.parametrize("arrivals", [1, 3, 6])
async def test_rows_arriving_at_the_head_between_pages_bring_no_repeats_and_no_gaps(
    hub_mock: respx.Router, arrivals: int
) -> None:
    original = history(60)
    expected = [r["generation_id"] for r in original]
    hub = FakeHub(list(original), cap=7)
    first_total = hub.total_cost()
    hub.between = lambda h: h.arrive(arrivals, NOW)
    serve(hub_mock, hub)
    async with client() as c:
        pager = HistoryPager(c, page_size=100)
        ids = await listed(pager)
    assert ids == expected
    assert pager.complete and pager.order_kept
    totals = pager.totals()
    # The rows listed are the hub's filter set as of the first page: its total, exactly.
    assert totals.hub_cost == Decimal(first_total) == totals.listed.spend
    assert totals.hub_entries == 60 == totals.listed.count
    assert totals.arrived == len(hub.rows) - 60 - arrivals  # as of the last page
    assert totals.line().endswith(f"; {totals.arrived} arrived while listing (not listed)")


async def test_a_burst_of_more_than_two_pages_between_two_requests(
    hub_mock: respx.Router,
) -> None:
    """20 arrivals at once, more than the last two pages of 7: an id window alone would
    list rows again; the watermark does not."""
    original = history(60)
    hub = FakeHub(list(original), cap=7)
    hub.between = lambda h: h.arrive(20, NOW) if len(h.asked) == 2 else None
    serve(hub_mock, hub)
    async with client() as c:
        ids = await listed(HistoryPager(c))
    assert ids == [r["generation_id"] for r in original]


async def test_a_page_of_arrivals_before_every_request_stalls_and_says_so(
    hub_mock: respx.Router,
) -> None:
    # Offsets move as fast as the rows: every page is the first page again.
    hub = FakeHub(history(60), cap=7)
    hub.between = lambda h: h.arrive(7, NOW)
    serve(hub_mock, hub)
    async with client() as c:
        pager = HistoryPager(c)
        ids = await listed(pager)
    assert ids == [f"g{i:05d}" for i in range(7)]
    assert pager.stopped == "stalled" and not pager.complete
    assert len(hub.asked) == 1 + STALL_PAGES


async def test_ties_in_a_second_broken_in_any_order_with_arrivals_in_that_second(
    hub_mock: respx.Router,
) -> None:
    # 40 rows in 4 seconds, each second's rows in a shuffled order (the real hub breaks
    # ties by what it does not show), and 3 new rows at the head before every page.
    rng = random.Random(5)
    rows: list[dict[str, Any]] = []
    for second in range(4):
        group = [make_row(second * 10 + j, NOW - 100 - second) for j in range(10)]
        rng.shuffle(group)
        rows += group
    expected = sorted(r["generation_id"] for r in rows)
    hub = FakeHub(rows, cap=6)
    hub.between = lambda h: h.arrive(3, NOW)
    serve(hub_mock, hub)
    async with client() as c:
        ids = await listed(HistoryPager(c))
    assert sorted(ids) == expected and len(ids) == len(set(ids))


async def test_since_stops_paging_at_the_first_older_row_and_until_skips_newer_ones(
    hub_mock: respx.Router,
) -> None:
    hub = FakeHub(history(100, seconds_apart=60, start=NOW), cap=10)
    serve(hub_mock, hub)
    window = TimeRange(since=NOW - 30 * 60, until=NOW - 10 * 60, label="in a test window")
    async with client() as c:
        pager = HistoryPager(c, time_range=window)
        ids = await listed(pager)
    assert ids == [f"g{i:05d}" for i in range(10, 31)]  # minutes 10..30 ago
    assert pager.stopped == "since" and pager.complete
    assert [page for page, _ in hub.asked] == [1, 2, 3, 4]  # not the other 6 pages
    assert pager.outside == 10
    line = pager.totals().line()
    assert line.startswith("21 generations in a test window, $0.21 (sum of the rows listed)")
    assert line.endswith("the hub's total for these filters, any time: 100 generations, $1.00")


async def test_a_row_without_a_time_is_listed_unless_a_range_asks_for_one(
    hub_mock: respx.Router,
) -> None:
    rows = history(5)
    rows[2]["enqueued_at"] = None
    rows[3]["enqueued_at"] = "yesterday"
    hub = FakeHub(rows, cap=2)
    serve(hub_mock, hub)
    async with client() as c:
        assert len(await listed(HistoryPager(c))) == 5
        pager = HistoryPager(c, time_range=TimeRange(since=NOW - 3600))
        assert len(await listed(pager)) == 3
    assert pager.untimed == 2 and pager.degraded == 1


async def test_a_hub_not_newest_first_is_noticed_and_read_row_by_row(
    hub_mock: respx.Router,
) -> None:
    rows = history(30)
    random.Random(3).shuffle(rows)
    hub = FakeHub(rows, cap=7)
    serve(hub_mock, hub)
    window = TimeRange(since=NOW - 20)
    async with client() as c:
        pager = HistoryPager(c, time_range=window)
        ids = await listed(pager)
    assert not pager.order_kept and pager.stopped == "end"
    # No early stop: every page read, the range applied row by row.
    assert sorted(ids) == [f"g{i:05d}" for i in range(11)]
    assert len(hub.asked) == 5


async def test_a_hub_that_ignores_the_page_number_is_not_asked_for_ever(
    hub_mock: respx.Router,
) -> None:
    hub = FakeHub(history(10), cap=5)
    hub.echo_page = hub.total_pages = False
    hub.ignore_page = True
    serve(hub_mock, hub)
    async with client() as c:
        pager = HistoryPager(c)
        ids = await listed(pager)
    assert ids == [f"g{i:05d}" for i in range(5)]
    assert pager.stopped == "stalled" and not pager.complete
    assert len(hub.asked) == 1 + STALL_PAGES
    assert "so far" in pager.totals().line()


async def test_a_page_number_the_hub_did_not_ask_for_is_a_bad_payload(
    hub_mock: respx.Router,
) -> None:
    hub_mock.get(GENERATIONS_PATH).respond(
        200, json={"generations": [make_row(1, NOW)], "page_number": 1, "total_pages": 3}
    )
    async with client() as c:
        pager = HistoryPager(c)
        await pager.next_rows()
        with pytest.raises(BadPayloadError, match="asked for history page 2, the hub answered"):
            await pager.next_rows()


async def test_a_failed_page_is_asked_again_and_nothing_is_lost(hub_mock: respx.Router) -> None:
    hub = FakeHub(history(20), cap=5)
    serve(hub_mock, hub)
    async with client() as c:
        pager = HistoryPager(c, QueueFilters(status="failed", search="x"))
        first = await pager.next_rows()
        hub.fail_next = 503
        with pytest.raises(ServerError):
            await pager.next_rows()
        rest = await listed(pager)
    assert [r.generation_id for r in first] + rest == [r["generation_id"] for r in hub.rows]
    assert [page for page, _ in hub.asked] == [1, 2, 3, 4]
    assert dict(hub_mock.calls.last.request.url.params)["status"] == "failed"
    assert "search" not in dict(hub_mock.calls.last.request.url.params)


async def test_the_totals_line_is_the_hubs_total_only_when_the_rows_are_the_whole_set(
    hub_mock: respx.Router,
) -> None:
    rows = history(10)
    hub = FakeHub(rows, cap=4)
    serve(hub_mock, hub)
    async with client() as c:
        pager = HistoryPager(c)
        first = await pager.next_rows()
        partial = pager.totals()
        await listed(pager)
    assert len(first) == 4
    # A page's sum is never the hub's total: it says "so far" and names both.
    assert partial.line().startswith("4 generations so far, $0.04 (sum of the rows listed)")
    assert "the hub's total for these filters: 10 generations, $0.10" in partial.line()
    assert pager.totals().line() == (
        "10 generations, $0.10 (the hub's total for these filters), "
        "10.0% failed (1 of 10 that ran to an end)"
    )


async def test_rows_without_a_cost_are_counted_and_said(hub_mock: respx.Router) -> None:
    rows = history(3)
    rows[1]["cost"] = "n/a"
    hub = FakeHub(rows, cap=4)
    hub.total_cost = lambda: "0.03"  # type: ignore[method-assign]
    serve(hub_mock, hub)
    async with client() as c:
        pager = HistoryPager(c)
        await listed(pager)
    line = pager.totals().line()
    assert pager.listed.no_cost == 1 and pager.listed.spend == Decimal("0.02")
    assert line.startswith("3 generations, $0.02 (sum of the rows listed; 1 without a cost)")
    assert line.endswith("the hub's total for these filters: 3 generations, $0.03")


# -- time range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - 86_400),
        ("90m", NOW - 5_400),
        ("1h30m", NOW - 5_400),
        ("7d", NOW - 7 * 86_400),
        ("2w", NOW - 14 * 86_400),
        ("45s", NOW - 45),
        ("now", NOW),
        ("1763990000", 1_763_990_000),
        ("2025-11-24T15:00:00Z", datetime.fromisoformat("2025-11-24T15:00:00+00:00").timestamp()),
        ("2025-11-24", datetime(2025, 11, 24).timestamp()),
        ("2025-11-24 15:30", datetime(2025, 11, 24, 15, 30).timestamp()),
    ],
)
def test_when_is_a_duration_before_now_or_a_time(text: str, expected: float) -> None:
    assert parse_when(text, NOW)[0] == pytest.approx(expected)


@pytest.mark.parametrize("text", ["abc", "24", "-1h", "h", "2025-13-01", "24 h", ""])
def test_a_bad_when_says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration before now"):
        parse_when(text, NOW)


def test_time_range_names_the_flag_and_refuses_an_empty_range() -> None:
    assert time_range(None, None, NOW) == TimeRange()
    window = time_range("24h", None, NOW)
    assert (window.since, window.until, window.label) == (NOW - 86_400, None, "in the last 24h")
    assert time_range(None, "1h", NOW).label.startswith("until ")
    with pytest.raises(ValueError, match=r"^--until: expected .*, got 'soon'$"):
        time_range("1h", "soon", NOW)
    with pytest.raises(ValueError, match=r"^--since \('1h'\) is not before --until \('2h'\)$"):
        time_range("1h", "2h", NOW)
    for now_or_later in ("0m", "now", "2100-01-01"):
        with pytest.raises(ValueError, match=r"^--since \(.*\) is not in the past"):
            time_range(now_or_later, None, NOW)
