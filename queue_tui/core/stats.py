"""Queue statistics, per model and overall: depth, wait and run times, throughput, ETAs,
failure rate and failures grouped by their normalised message.

Headless and pure: `compute_stats(tracker_or_rows, now)` reads the tracker (or any rows)
and returns plain frozen dataclasses. Durations come from the hub's own timestamps
(`enqueued_at`, `started_at`, `completed_at`), never from when a poll happened to see a
change, so a slow poll interval does not skew them.

Definitions (documented in the README):

- *queue wait* = started_at - enqueued_at, for rows that started within `window`;
- *run time* = completed_at - started_at, for rows that succeeded or failed within
  `window` (cancelled rows are left out: they did not run to an end);
- *completions per minute* = rows that succeeded or failed within the last
  `throughput_window` (10 min) divided by its length in minutes; while the tracker has
  watched for less than that, by the time it has watched (at least a minute);
- *failure rate* = failed / (succeeded + failed) within `window`;
- *ETA* of a queued row = its position in its model's queue (by enqueued_at) divided by
  the model's completions per second, plus the model's median run time; of a processing
  row = median run time minus the time it has run so far. None ("—") until the model
  has `min_completions` completions in the throughput window.
- percentiles interpolate linearly between closest ranks (numpy's default).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from operator import attrgetter

from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation, ModelPrices, Status
from queue_tui.core import money
from queue_tui.core.timefmt import DASH
from queue_tui.core.tracker import STATS_WINDOW, DepthSample, Tracker
from queue_tui.sanitize import clean, error_headline

#: Declared with the tracker, whose history keeps just this window.
WINDOW = STATS_WINDOW
THROUGHPUT_WINDOW = 600.0
MIN_COMPLETIONS = 3
#: Error messages are grouped on at most this many normalised characters.
GROUP_KEY_LEN = 200

_SUCCEEDED = Status.SUCCEEDED.value
_FAILED = Status.FAILED.value
_CANCELLED = Status.CANCELLED.value
_QUEUED = Status.QUEUED.value
_PROCESSING = Status.PROCESSING.value
_IN_PROGRESS = Status.IN_PROGRESS.value
_QUEUED_LIKE = (_QUEUED, _IN_PROGRESS)
#: Outcomes of rows that ran to an end (cancelled ones did not).
_RAN = (_SUCCEEDED, _FAILED)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * min(100.0, max(0.0, q)) / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# -- failure grouping --------------------------------------------------------------------

_NORMALISERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"https?://\S+", re.IGNORECASE), "<url>"),
    (
        re.compile(
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE
        ),
        "<uuid>",
    ),
    (re.compile(r"\b0x[0-9a-f]+\b", re.IGNORECASE), "<hex>"),
    # Long hex runs (hashes, revisions) that contain at least one digit.
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.IGNORECASE), "<hex>"),
    # Paths: absolute, or relative with at least two separators.
    (re.compile(r"(?:[A-Za-z]:)?(?:[\w.\-~]*[/\\]){2,}[\w.\-~]*"), "<path>"),
    (re.compile(r"(?<![\w<])/[\w.\-~]+(?:/[\w.\-~]+)*"), "<path>"),
    (re.compile(r"\d+(?:[.,]\d+)*"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def normalise_error(message: str | None) -> str:
    """The message with its variable parts (numbers, hex, uuids, paths, URLs) replaced,
    so "Tried to allocate 2.50 GiB" and "Tried to allocate 10.00 GiB" group together.
    A traceback is keyed on its exception line."""
    if not message:
        return "(no message)"
    # Cached: the same finished rows are grouped again at every poll, and the regexes
    # are the costliest part of `compute_stats`. A long message is keyed by its digest,
    # so the cache never keeps a message after its row has left the history.
    key = message if len(message) <= _KEY_TEXT_MAX else _digest(message)
    cache = _NORMALISED
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
        return found
    found = cache[key] = _normalise(message)
    if len(cache) > NORMALISED_KEPT:
        cache.popitem(last=False)
    return found


#: Normalised messages kept (least recently used out): more than a busy hub's distinct
#: messages in a statistics window; each holds at most `_KEY_TEXT_MAX` + `GROUP_KEY_LEN`
#: characters, so the cache stays well under a megabyte whatever the hub sends.
NORMALISED_KEPT = 1024
_KEY_TEXT_MAX = 256
_NORMALISED: OrderedDict[str | bytes, str] = OrderedDict()


def _digest(message: str) -> bytes:
    return hashlib.blake2b(message.encode("utf-8", "surrogatepass"), digest_size=20).digest()


def _normalise(message: str) -> str:
    text = clean(message, multiline=True).strip()
    if text.startswith("Traceback"):
        text = error_headline(text, max_len=None)
    text = clean(text)
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text.strip()[:GROUP_KEY_LEN] or "(no message)"


@dataclass(frozen=True, slots=True)
class FailureGroup:
    #: The normalised message the group is keyed on.
    key: str
    #: The most recent message of the group, cleaned, first line, clipped (for display).
    example: str
    count: int
    by_model: Mapping[str, int]
    last_at: float | None
    #: Most recent first, at most 20.
    generation_ids: tuple[str, ...]


def group_failures(rows: Iterable[Generation]) -> list[FailureGroup]:
    """Failed rows grouped by normalised error, biggest group first."""
    groups: dict[str, list[Generation]] = {}
    for gen in rows:
        if gen.status == _FAILED:
            groups.setdefault(normalise_error(gen.error_message), []).append(gen)
    out = []
    for key, members in groups.items():
        members.sort(key=lambda g: g.completed_at or 0.0, reverse=True)
        by_model: dict[str, int] = {}
        for g in members:
            by_model[g.model_name] = by_model.get(g.model_name, 0) + 1
        latest = members[0]
        out.append(
            FailureGroup(
                key=key,
                example=error_headline(latest.error_message) or "(no message)",
                count=len(members),
                by_model=dict(sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))),
                last_at=latest.completed_at,
                generation_ids=tuple(g.generation_id for g in members[:20]),
            )
        )
    out.sort(key=lambda g: (-g.count, -(g.last_at or 0.0), g.key))
    return out


# -- per model -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelStats:
    #: None for the overall figures.
    model: str | None
    queued: int = 0
    processing: int = 0
    #: Every row in flight (queued, processing, the old status-less shape, unknown statuses).
    active: int = 0
    wait_p50: float | None = None
    wait_p95: float | None = None
    run_p50: float | None = None
    run_p95: float | None = None
    #: Succeeded + failed per minute over the throughput window (None: no time covered).
    completions_per_min: float | None = None
    #: Completions counted in the throughput window.
    recent_completions: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    #: failed / (succeeded + failed) within the window; None with no completions.
    failure_rate: float | None = None
    wait_samples: int = 0
    run_samples: int = 0


@dataclass(frozen=True, slots=True)
class QueueStats:
    now: float
    overall: ModelStats
    by_model: dict[str, ModelStats]
    failure_groups: list[FailureGroup]
    depth_history: list[DepthSample] = field(default_factory=list)
    #: Seconds until done, for the rows that have an estimate.
    etas: dict[str, float] = field(default_factory=dict)

    def eta_for(self, gen: Generation | str) -> float | None:
        gid = gen if isinstance(gen, str) else gen.generation_id
        return self.etas.get(gid)

    def depth_series(self, model: str | None = None, *, what: str = "queued") -> list[int]:
        """Queued (or "processing", or "active") rows per poll, oldest first."""
        if model is not None:
            return [s.by_model.get(model, 0) for s in self.depth_history]
        if what == "processing":
            return [s.processing for s in self.depth_history]
        if what == "active":
            return [s.queued + s.processing for s in self.depth_history]
        return [s.queued for s in self.depth_history]


def fmt_eta(seconds: float | None) -> str:
    """`<1m`, `~4m`, `~1h05m`; a dash while there is too little data."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    if seconds < 60:
        return "<1m"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"~{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"~{hours}h{minutes:02d}m"


def compute_stats(
    source: Tracker | Iterable[Generation],
    now: float,
    *,
    filters: QueueFilters | None = None,
    window: float = WINDOW,
    throughput_window: float = THROUGHPUT_WINDOW,
    since: float | None = None,
    min_completions: int = MIN_COMPLETIONS,
) -> QueueStats:
    """Statistics of a tracker (its active rows, finished history and depth samples) or
    of any rows. `since` is when observation began (a tracker knows its own): the
    throughput of a tracker that has watched for 2 minutes is over those 2 minutes."""
    depth: list[DepthSample] = []
    if isinstance(source, Tracker):
        active = source.active_rows()
        finished = source.history
        depth = source.depth_history
        if since is None:
            known = [t for t in (source.started_at, source.history_since) if t is not None]
            since = min(known) if known else None
    else:
        rows = list(source)
        active = [g for g in rows if g.is_active]
        finished = [g for g in rows if g.is_terminal]
    if filters is not None:
        active = [g for g in active if filters.matches(g)]
        finished = [g for g in finished if filters.matches(g)]

    covered = throughput_window
    if since is not None:
        covered = min(throughput_window, max(60.0, now - since))

    # One pass over the rows gathers every model's figures; the overall figures are the
    # sum of the models' (the same samples, so the same percentiles).
    accs: dict[str, _Acc] = {}
    lo, hi = now - window, now + _SKEW
    recent_lo = now - throughput_window
    #: Finished rows of the window, for the failure groups.
    recent: list[Generation] = []
    for g in active:
        acc = accs.get(g.model_name)
        if acc is None:
            acc = accs[g.model_name] = _Acc()
        acc.active += 1
        status = g.status
        if status == _PROCESSING:
            acc.processing += 1
        elif status in _QUEUED_LIKE:
            acc.queued += 1
        started = g.started_at
        if started is not None and g.enqueued_at is not None and lo <= started <= hi:
            acc.waits.append(max(0.0, started - g.enqueued_at))
    for g in finished:
        acc = accs.get(g.model_name)
        if acc is None:
            acc = accs[g.model_name] = _Acc()
        started = g.started_at
        if started is not None and g.enqueued_at is not None and lo <= started <= hi:
            acc.waits.append(max(0.0, started - g.enqueued_at))
        completed = g.completed_at
        if completed is None:
            recent.append(g)  # finished without a time: counts as recent
            continue
        if not completed <= hi:
            continue
        status = g.status
        ran = status in _RAN
        if lo <= completed:
            recent.append(g)
            if ran:
                if started is not None:
                    acc.runs.append(max(0.0, completed - started))
                if status == _SUCCEEDED:
                    acc.succeeded += 1
                else:
                    acc.failed += 1
            elif status == _CANCELLED:
                acc.cancelled += 1
        if ran and recent_lo <= completed:
            acc.recent += 1
    by_model = {m: accs[m].stats(m, covered) for m in sorted(accs)}
    overall = _Acc.merge(accs.values()).stats(None, covered)
    etas = _etas(active, by_model, now, min_completions)
    return QueueStats(
        now=now,
        overall=overall,
        by_model=by_model,
        failure_groups=group_failures(recent),
        depth_history=depth,
        etas=etas,
    )


#: A completion up to this far in the future (seconds) is clock skew, not the future.
_SKEW = 60.0


@dataclass(slots=True)
class _Acc:
    """What `compute_stats` gathers of one model's rows (or of all of them)."""

    active: int = 0
    queued: int = 0
    processing: int = 0
    waits: list[float] = field(default_factory=list)
    runs: list[float] = field(default_factory=list)
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    #: Completions (succeeded or failed) in the throughput window.
    recent: int = 0

    @classmethod
    def merge(cls, parts: Iterable[_Acc]) -> _Acc:
        total = cls()
        for p in parts:
            total.active += p.active
            total.queued += p.queued
            total.processing += p.processing
            total.waits += p.waits
            total.runs += p.runs
            total.succeeded += p.succeeded
            total.failed += p.failed
            total.cancelled += p.cancelled
            total.recent += p.recent
        return total

    def stats(self, model: str | None, covered: float) -> ModelStats:
        waits, runs = self.waits, self.runs
        succeeded, failed, recent = self.succeeded, self.failed, self.recent
        return ModelStats(
            model=model,
            queued=self.queued,
            processing=self.processing,
            active=self.active,
            wait_p50=percentile(waits, 50),
            wait_p95=percentile(waits, 95),
            run_p50=percentile(runs, 50),
            run_p95=percentile(runs, 95),
            completions_per_min=recent / (covered / 60.0) if covered > 0 else None,
            recent_completions=recent,
            succeeded=succeeded,
            failed=failed,
            cancelled=self.cancelled,
            failure_rate=failed / (succeeded + failed) if succeeded + failed else None,
            wait_samples=len(waits),
            run_samples=len(runs),
        )


_BY_ENQUEUED = attrgetter("enqueued_at", "generation_id")
_BY_ID = attrgetter("generation_id")


def _etas(
    active: list[Generation], by_model: dict[str, ModelStats], now: float, min_completions: int
) -> dict[str, float]:
    etas: dict[str, float] = {}
    queues: dict[str, list[Generation]] = {}
    for gen in active:
        status = gen.status
        if status == _QUEUED:
            model = gen.model_name
            queue = queues.get(model)
            if queue is None:
                if model not in by_model:
                    continue
                queue = queues[model] = []
            queue.append(gen)
        elif status == _PROCESSING:
            stats = by_model.get(gen.model_name)
            if stats is not None and stats.run_p50 is not None and gen.started_at is not None:
                etas[gen.generation_id] = max(0.0, stats.run_p50 - max(0.0, now - gen.started_at))
    for model, rows in queues.items():
        stats = by_model[model]
        rate = stats.completions_per_min
        if not rate or stats.recent_completions < min_completions:
            continue
        # By (enqueued_at, id), rows without an enqueued_at last (by id): C-level sort
        # keys instead of a Python function per row.
        untimed = [g for g in rows if g.enqueued_at is None]
        if untimed:
            rows = [g for g in rows if g.enqueued_at is not None]
            untimed.sort(key=_BY_ID)
        rows.sort(key=_BY_ENQUEUED)
        rows += untimed
        run = stats.run_p50 or 0.0
        per_second = rate / 60.0
        positions = range(1, len(rows) + 1)
        etas.update(zip(map(_BY_ID, rows), [p / per_second + run for p in positions], strict=True))
    return etas


# -- the queued cost estimate ----------------------------------------------------------

#: A video's duration beyond this many seconds is not a duration (garbage from the hub).
_MAX_DURATION = Decimal(86_400)
#: Price times duration, exactly (the default context keeps only 28 digits).
_EXACT = Context(prec=80)


def _duration(gen: Generation) -> Decimal | None:
    """The row's requested `duration` in seconds (the enqueue parameter), if usable."""
    value = (gen.model_extra or {}).get("duration")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return seconds if seconds.is_finite() and 0 < seconds <= _MAX_DURATION else None


def row_price(gen: Generation, prices: ModelPrices) -> Decimal | None:
    """What one row should cost at the model's list price: an image its
    `cost_per_image`, a video `cost_per_second` times its requested `duration`; None
    when the prices or the row do not say (a video without a duration). The audio and
    high-resolution rates are not used: no documented row field selects them."""
    if gen.media_type == "video" or (prices.cost_per_image is None and gen.media_type != "image"):
        seconds = _duration(gen)
        if prices.cost_per_second is None or seconds is None:
            return None
        return _EXACT.multiply(prices.cost_per_second, seconds)
    return prices.cost_per_image


@dataclass(frozen=True, slots=True)
class ModelEstimate:
    """One model's rows in flight at its list price: `cost` covers `priced` of `rows`."""

    model: str
    rows: int
    priced: int
    cost: Decimal


@dataclass(frozen=True, slots=True)
class QueuedCost:
    """An estimate of what the rows in flight (queued or processing) will cost, for the
    models whose prices the hub gave. Never a charge: the hub's own figure for a row is
    its `cost` in the history, once it ran."""

    by_model: dict[str, ModelEstimate]
    total: Decimal
    #: Rows counted, and rows of a priced model the prices cannot cover.
    priced: int
    unpriced: int


@dataclass(slots=True)
class _CostAcc:
    rows: int = 0
    priced: int = 0
    cost: Decimal = money.ZERO


def estimate_queued_cost(
    rows: Iterable[Generation],
    prices: Mapping[str, ModelPrices],
    filters: QueueFilters | None = None,
) -> QueuedCost | None:
    """The estimate for the rows in flight among `rows` (those `filters` match) whose
    model has a price in `prices`; None when no such row can be priced (the panel then
    says nothing about cost)."""
    accs: dict[str, _CostAcc] = {}
    for gen in rows:
        if gen.is_terminal:
            continue
        model_prices = prices.get(gen.model_name)
        if model_prices is None or (filters is not None and not filters.matches(gen)):
            continue
        acc = accs.get(gen.model_name)
        if acc is None:
            acc = accs[gen.model_name] = _CostAcc()
        acc.rows += 1
        price = row_price(gen, model_prices)
        if price is not None:
            acc.priced += 1
            acc.cost = money.add(acc.cost, price)
    by_model = {
        m: ModelEstimate(m, a.rows, a.priced, a.cost) for m, a in sorted(accs.items()) if a.priced
    }
    if not by_model:
        return None
    total = money.ZERO
    for estimate in by_model.values():
        total = money.add(total, estimate.cost)
    priced = sum(e.priced for e in by_model.values())
    return QueuedCost(
        by_model=by_model,
        total=total,
        priced=priced,
        unpriced=sum(a.rows for a in accs.values()) - priced,
    )


__all__ = [
    "NORMALISED_KEPT",
    "FailureGroup",
    "ModelEstimate",
    "ModelStats",
    "QueueStats",
    "QueuedCost",
    "compute_stats",
    "error_headline",
    "estimate_queued_cost",
    "fmt_eta",
    "group_failures",
    "normalise_error",
    "percentile",
    "row_price",
]
