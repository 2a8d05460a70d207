"""The hub's history (`GET /api/ai/generations`): read page by page, tallied, summarised.

The one seam for `queue-tui history` and the dashboard's History view (no Textual here):

- `HistoryPager` reads the history newest first, one page when asked (`next_rows`),
  each row once, in memory that does not grow with the rows read; it knows the hub's
  figures for the whole filter set (`hub_entries`, `hub_cost`) and tallies what it
  listed (`listed`). `stream_history` is every row of a pager, as an async iterator.
- `TimeRange` and `time_range` (`--since 24h --until 2026-11-29T14:00`): the API has no
  such parameters, so the range is applied here, on `enqueued_at`, and paging stops at
  the first row older than `since`.
- `Tally` (count, failures, exact spend) and `Summary` (a tally per model, day, user).
- `HistoryTotals.line()`: the totals, saying which figure is the hub's and which is the
  sum of the rows listed; a page's sum is never passed off as the hub's total.

Money is `Decimal` throughout (`core.money`).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from queue_tui.api.client import HISTORY_PAGE_SIZE_MAX, QueueClient
from queue_tui.api.errors import BadPayloadError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import PastGeneration
from queue_tui.core import money
from queue_tui.core.timefmt import fmt_local

#: What the dashboard asks for a page (the CLI asks for the spec's largest).
DEFAULT_PAGE_SIZE = 100
#: Pages in a row that bring no row not listed yet before the pager gives up: a hub that
#: ignores `page` would otherwise be asked for ever.
STALL_PAGES = 5

Grouping = Literal["model", "day", "user"]
GROUPINGS: tuple[Grouping, ...] = ("model", "day", "user")
#: A group's key when the row does not say (no time, no user).
UNKNOWN = "?"


# -- time range -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Rows enqueued in `[since, until]` (unix seconds; None: unbounded). `label` says it
    in words, after a count (`in the last 24h`, `since 2026-11-29 00:00:00`)."""

    since: float | None = None
    until: float | None = None
    label: str = ""

    @property
    def bounded(self) -> bool:
        return self.since is not None or self.until is not None

    def holds(self, enqueued_at: float) -> bool:
        return (self.since is None or enqueued_at >= self.since) and (
            self.until is None or enqueued_at <= self.until
        )


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
#: A bare number this big is unix seconds (2001 onwards); a smaller one needs a unit.
_UNIX_MIN = 1e9
_WHEN_HELP = (
    "expected a duration before now (30m, 24h, 7d, 1h30m) or a time "
    "(2026-11-29, 2026-11-29T14:00, 2026-11-29T14:00Z, unix seconds)"
)


def parse_when(text: str, now: float) -> tuple[float, bool]:
    """A moment from `--since`/`--until` text: (unix seconds, whether it was relative).
    A duration counts back from `now`; a date or time without an offset is local time.
    Raises ValueError (with what is expected) for anything else."""
    value = text.strip().lower()
    if value == "now":
        return now, True
    if _DURATION.fullmatch(value):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
        return now - seconds, True
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if _UNIX_MIN <= number < 1e11:
            return number, False
        raise ValueError(_WHEN_HELP)
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
        return moment.timestamp(), False
    except (ValueError, OverflowError, OSError):
        raise ValueError(_WHEN_HELP) from None


def time_range(
    since: str | None,
    until: str | None,
    now: float,
    names: tuple[str, str] = ("--since", "--until"),
) -> TimeRange:
    """The range of `--since`/`--until`. Raises ValueError naming the one at fault, by
    `names` (the CLI's flags, or a dialog's fields)."""
    moments: dict[str, tuple[float, bool] | None] = {}
    for name, text in zip(names, (since, until), strict=True):
        if text is None:
            moments[name] = None
            continue
        try:
            moments[name] = parse_when(text, now)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}, got {text!r}") from None
    start, end = (moments[name] for name in names)
    if start is not None and start[0] >= now:
        raise ValueError(f"{names[0]} ({since!r}) is not in the past: nothing could match")
    if start is not None and end is not None and start[0] >= end[0]:
        raise ValueError(f"{names[0]} ({since!r}) is not before {names[1]} ({until!r})")
    if start is None and end is None:
        return TimeRange()
    if end is None and start is not None and start[1]:
        label = f"in the last {since.strip() if since else ''}"
    elif end is None and start is not None:
        label = f"since {fmt_local(start[0])}"
    elif start is None and end is not None:
        label = f"until {fmt_local(end[0])}"
    else:
        label = f"from {fmt_local(start[0])} to {fmt_local(end[0])}"  # type: ignore[index]
    return TimeRange(
        since=None if start is None else start[0],
        until=None if end is None else end[0],
        label=label,
    )


# -- tallies -------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """Rows counted, by outcome, and what they cost (exact). `no_cost`: rows whose cost
    the hub did not give (or gave garbage): in `count`, not in `spend`."""

    count: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    spend: Decimal = money.ZERO
    no_cost: int = 0

    def add(self, row: PastGeneration) -> None:
        self.count += 1
        if row.status == "succeeded":
            self.succeeded += 1
        elif row.status == "failed":
            self.failed += 1
        elif row.status == "cancelled":
            self.cancelled += 1
        if row.cost is None:
            self.no_cost += 1
        else:
            self.spend = money.add(self.spend, row.cost)

    @property
    def failure_rate(self) -> float | None:
        """failed / (succeeded + failed), as the stats panel counts it (cancelled and
        unfinished rows are neither); None before any row ran to an end."""
        ran = self.succeeded + self.failed
        return self.failed / ran if ran else None

    def failure_text(self) -> str:
        """`7.1% failed (29 of 410 that ran to an end)`, or "" when none did."""
        rate = self.failure_rate
        if rate is None:
            return ""
        ran = self.succeeded + self.failed
        return f"{rate:.1%} failed ({self.failed:,} of {ran:,} that ran to an end)"


def group_key(row: PastGeneration, by: Grouping) -> str:
    """The row's group: its model, the local day it was enqueued (`2026-11-29`), or its
    user (`username`, else `user_id`); `UNKNOWN` when the row does not say. Raw hub text:
    clean it to show it."""
    if by == "model":
        return UNKNOWN if "model_name" in row.invalid_fields else row.model_name
    if by == "day":
        if row.enqueued_at is None:
            return UNKNOWN
        return time.strftime("%Y-%m-%d", time.localtime(row.enqueued_at))
    return row.username or row.user_id or UNKNOWN


@dataclass(slots=True)
class Summary:
    """A `Tally` per model, per local day and per user, and one overall. Memory grows
    with the number of groups, not of rows."""

    total: Tally = field(default_factory=Tally)
    groups: dict[Grouping, dict[str, Tally]] = field(
        default_factory=lambda: {by: {} for by in GROUPINGS}
    )

    def add(self, row: PastGeneration) -> None:
        self.total.add(row)
        for by, tallies in self.groups.items():
            key = group_key(row, by)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = Tally()
            tally.add(row)

    def rows(self, by: Grouping) -> list[tuple[str, Tally]]:
        """The groups in reading order: days oldest first (a chart reads left to right),
        models and users by spend, then count, largest first."""
        items = list(self.groups[by].items())
        if by == "day":
            return sorted(items, key=lambda kv: (kv[0] == UNKNOWN, kv[0]))
        return sorted(items, key=lambda kv: (-kv[1].spend, -kv[1].count, kv[0]))


# -- the pager --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryTotals:
    """The figures a totals line states. `hub_entries` / `hub_cost`: the hub's, for the
    whole filter set at the first page (any time: the API knows no time range);
    `listed`: the rows listed, in the range. `complete`: read to the end of the range."""

    listed: Tally
    hub_entries: int | None
    hub_cost: Decimal | None
    time_range: TimeRange
    complete: bool
    #: Rows the hub added to the filter set while it was being read (not listed).
    arrived: int = 0

    @property
    def listed_is_hub_total(self) -> bool:
        """The listed rows are the hub's whole filter set: same count, same spend."""
        return (
            self.complete
            and not self.time_range.bounded
            and self.listed.no_cost == 0
            and self.hub_entries == self.listed.count
            and self.hub_cost is not None
            and self.hub_cost == self.listed.spend
        )

    def line(self) -> str:
        """`2,500 generations, $761.42 (the hub's total for these filters), 11.0% failed
        (...)`, or with a range or a difference: the listed rows' sum, then the hub's
        figures, each named for what it is."""
        listed = self.listed
        noun = "generation" if listed.count == 1 else "generations"
        where = f" {self.time_range.label}" if self.time_range.bounded else ""
        parts: list[str] = []
        if self.listed_is_hub_total:
            parts.append(
                f"{listed.count:,} {noun}, {money.format_money(self.hub_cost)} "
                "(the hub's total for these filters)"
            )
        else:
            so_far = "" if self.complete else " so far"
            without = f"; {listed.no_cost:,} without a cost" if listed.no_cost else ""
            parts.append(
                f"{listed.count:,} {noun}{where}{so_far}, "
                f"{money.format_money(listed.spend)} (sum of the rows listed{without})"
            )
        failures = listed.failure_text()
        if failures:
            parts.append(failures)
        line = ", ".join(parts)
        if not self.listed_is_hub_total and (
            self.hub_entries is not None or self.hub_cost is not None
        ):
            entries = "?" if self.hub_entries is None else f"{self.hub_entries:,}"
            span = ", any time" if self.time_range.bounded else ""
            line += (
                f"; the hub's total for these filters{span}: {entries} generations, "
                f"{money.format_money(self.hub_cost, missing='cost not given')}"
            )
        if self.arrived > 0:
            line += f"; {self.arrived:,} arrived while listing (not listed)"
        return line


class HistoryPager:
    """The history newest first, one page at a time, each row once.

    `next_rows()` asks for the next page and returns its rows not listed before and in
    the time range; a failure raises (`QueueError`) and the next call asks for the same
    page again. `done` once the last page (the latest answer's `total_pages`), an empty
    page, or a row older than `since` is reached. The page size asked for is a wish: the
    hub may answer with fewer rows a page, and only its page numbers are used.

    No repeats, no gaps while rows arrive: pages are offsets into a list that grows at
    its head (the demo hub's order: `enqueued_at` descending, ties by id), so k rows
    arriving between two requests push every later row k places down, and the next page
    starts with the last k rows of the one before (repeats, never gaps). The pager keeps
    a watermark, the `enqueued_at` of the oldest row passed, and the ids passed at
    exactly that second (ties: the hub may break them in any order); a row newer than the
    watermark, or already passed at it, was listed before or arrived after the listing
    began, and is skipped. That holds for any k, in memory of one second's rows. A row
    with no usable `enqueued_at`, or a hub found not to be newest first (a row newer than
    the one before it on a page: `order_kept` becomes False), falls back to the ids of
    the last two pages, which catch up to a page of arrivals between two requests.
    """

    def __init__(
        self,
        client: QueueClient,
        filters: QueueFilters | None = None,
        *,
        time_range: TimeRange | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= HISTORY_PAGE_SIZE_MAX:
            raise ValueError(f"page_size must be 1..{HISTORY_PAGE_SIZE_MAX}, got {page_size}")
        self.client = client
        #: `search` is the dashboard's client-side text filter: not a request parameter.
        self.filters = (filters or QueueFilters()).with_(search=None)
        self.time_range = time_range or TimeRange()
        self.page_size = page_size
        #: The next page to ask for (from 1).
        self.page = 1
        self.done = False
        #: Why it stopped: "end" (last page), "since" (older rows only from here), or
        #: "stalled" (`STALL_PAGES` pages in a row of rows listed before).
        self.stopped: str | None = None
        self.pages_read = 0
        #: The hub's figures for the whole filter set, from the first page.
        self.hub_entries: int | None = None
        self.hub_cost: Decimal | None = None
        #: From the latest page: how many pages there are, and the size the hub used.
        self.hub_pages: int | None = None
        self.hub_page_size: int | None = None
        self._latest_entries: int | None = None
        #: The rows listed (in the range), tallied.
        self.listed = Tally()
        #: Rows read but not listed: outside the time range; without a usable time
        #: while a range is set; dropped (no usable id) or degraded by the client.
        self.outside = 0
        self.untimed = 0
        self.dropped = 0
        self.degraded = 0
        #: The hub's rows came newest first on every page (see the class docstring).
        self.order_kept = True
        self._mark: float | None = None
        self._at_mark: set[str] = set()
        self._recent: set[str] = set()
        self._previous: set[str] = set()
        self._stalled = 0

    async def next_rows(self) -> list[PastGeneration]:
        """The next page's rows that are new and in the range (possibly none while not
        `done`: a page of repeats, or of rows outside the range); [] once `done`."""
        if self.done:
            return []
        asked = self.page
        page = await self.client.history_page(self.filters, page=asked, page_size=self.page_size)
        if page.page_number is not None and page.page_number != asked:
            raise BadPayloadError(
                f"asked for history page {asked}, the hub answered page {page.page_number}"
            )
        self.page += 1
        self.pages_read += 1
        if self.pages_read == 1:
            self.hub_entries, self.hub_cost = page.total_entries, page.total_cost
        self._latest_entries = page.total_entries
        self.hub_pages = page.total_pages
        self.hub_page_size = page.page_size
        self.dropped += len(page.dropped)
        self.degraded += page.degraded
        self._previous, self._recent = self._recent, set()
        if self.order_kept and not _newest_first(page.generations):
            self.order_kept = False
        fresh: list[PastGeneration] = []
        passed = 0
        since, until = self.time_range.since, self.time_range.until
        for row in page.generations:
            ts = row.enqueued_at
            if not self._first_time(row.generation_id, ts):
                continue
            passed += 1
            if self.time_range.bounded:
                if ts is None:
                    self.untimed += 1
                    continue
                if until is not None and ts > until:
                    self.outside += 1
                    continue
                if since is not None and ts < since:
                    if self.order_kept:
                        # Newest first: every row from here on is older still.
                        self._stop("since")
                        break
                    self.outside += 1
                    continue
            self.listed.add(row)
            fresh.append(row)
        rows_on_page = len(page.generations) + len(page.dropped)
        self._stalled = 0 if passed or not rows_on_page else self._stalled + 1
        if self.done:
            pass
        elif rows_on_page == 0:
            self._stop("end")
        elif page.total_pages is not None:
            if asked >= page.total_pages:
                self._stop("end")
        elif page.page_size is not None and rows_on_page < page.page_size:
            self._stop("end")
        if not self.done and self._stalled >= STALL_PAGES:
            self._stop("stalled")
        return fresh

    def _first_time(self, gid: str, ts: float | None) -> bool:
        """Whether the row is passed for the first time (see the class docstring)."""
        recent = gid in self._recent or gid in self._previous
        self._recent.add(gid)
        if ts is None or not self.order_kept:
            return not recent
        if self._mark is None or ts < self._mark:
            self._mark, self._at_mark = ts, {gid}
            return True
        if ts == self._mark and gid not in self._at_mark:
            self._at_mark.add(gid)
            return True
        return False

    def _stop(self, why: str) -> None:
        self.done, self.stopped = True, why

    @property
    def complete(self) -> bool:
        """Read to the end of the range (not stalled, not still reading)."""
        return self.done and self.stopped in ("end", "since")

    @property
    def arrived(self) -> int:
        """Rows the hub added to the filter set since the first page (not listed)."""
        if self.hub_entries is None or self._latest_entries is None:
            return 0
        return max(0, self._latest_entries - self.hub_entries)

    def totals(self) -> HistoryTotals:
        return HistoryTotals(
            listed=dataclasses.replace(self.listed),
            hub_entries=self.hub_entries,
            hub_cost=self.hub_cost,
            time_range=self.time_range,
            complete=self.complete,
            arrived=self.arrived,
        )

    def progress_text(self) -> str:
        """`history: page 3 of 25, 300 rows` (for a progress line)."""
        of = f" of {self.hub_pages:,}" if self.hub_pages else ""
        return f"history: page {self.pages_read:,}{of}, {self.listed.count:,} rows"


def _newest_first(rows: list[PastGeneration]) -> bool:
    """No row newer than the one before it (rows without a time aside)."""
    before: float | None = None
    for row in rows:
        ts = row.enqueued_at
        if ts is None:
            continue
        if before is not None and ts > before:
            return False
        before = ts
    return True


async def stream_history(pager: HistoryPager) -> AsyncIterator[PastGeneration]:
    """Every row `pager` lists from where it is, page after page; a fault raises."""
    while not pager.done:
        for row in await pager.next_rows():
            yield row


async def summarize(pager: HistoryPager, summary: Summary | None = None) -> Summary:
    """The rest of `pager`'s rows, tallied into `summary` (a new one by default)."""
    summary = summary if summary is not None else Summary()
    async for row in stream_history(pager):
        summary.add(row)
    return summary


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "GROUPINGS",
    "UNKNOWN",
    "Grouping",
    "HistoryPager",
    "HistoryTotals",
    "Summary",
    "Tally",
    "TimeRange",
    "group_key",
    "parse_when",
    "stream_history",
    "summarize",
    "time_range",
]
