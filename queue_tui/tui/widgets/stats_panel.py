"""`t`: queue statistics, per model and overall, with a sparkline of the queue depth.

Fed a `QueueStats` (computed once per poll by the app, see `queue_tui.core.stats`); it
never computes anything expensive itself. Model names and error messages come from the
hub: they are cleaned and wrapped in `Text`, never parsed as markup. Where the hub gives
model prices, a `QueuedCost` adds what the rows in flight should cost, labelled as an
estimate (an `EST. COST` column and a line); without prices nothing about cost shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from io import StringIO

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Sparkline, Static

from queue_tui.core.money import format_money
from queue_tui.core.stats import ModelStats, QueuedCost, QueueStats
from queue_tui.core.timefmt import DASH, fmt_coarse, fmt_duration
from queue_tui.core.tracker import DepthSample
from queue_tui.sanitize import clean

#: The sparkline covers this many seconds, in buckets of DEPTH_BUCKET seconds.
DEPTH_WINDOW = 1800.0
DEPTH_BUCKET = 30.0
#: Failure groups listed (the biggest first).
TOP_FAILURE_GROUPS = 5
MODEL_MAX = 22
ERROR_MAX = 160


def depth_series(
    samples: Sequence[DepthSample],
    now: float,
    *,
    window: float = DEPTH_WINDOW,
    bucket: float = DEPTH_BUCKET,
) -> list[float]:
    """Queued rows over the last `window` seconds, one value (the bucket's maximum) per
    `bucket` seconds, oldest first. Buckets before the first sample are left out (the
    dashboard was not watching); a bucket without a sample repeats the one before."""
    start = now - window
    count = max(1, int(window // bucket))
    values: list[float | None] = [None] * count
    first_index: int | None = None
    for sample in samples:
        if sample.at < start or sample.at > now + bucket:
            continue
        index = min(count - 1, int((sample.at - start) // bucket))
        if first_index is None or index < first_index:
            first_index = index
        current = values[index]
        if current is None or sample.queued > current:
            values[index] = float(sample.queued)
    if first_index is None:
        return []
    series: list[float] = []
    last = 0.0
    for value in values[first_index:]:
        last = last if value is None else value
        series.append(last)
    return series


def _pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.0f}%"


def _rate(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _pair(p50: float | None, p95: float | None) -> str:
    if p50 is None:
        return DASH
    return f"{fmt_duration(p50)} / {fmt_duration(p95)}"


def overall_text(stats: QueueStats, estimate: QueuedCost | None = None) -> Text:
    o = stats.overall
    text = Text(end="")
    text.append("queued ", style="dim")
    text.append(str(o.queued), style="bold")
    text.append("  processing ", style="dim")
    text.append(str(o.processing), style="bold")
    text.append("  done/min ", style="dim")
    text.append(_rate(o.completions_per_min), style="bold")
    text.append("  failure rate ", style="dim")
    text.append(_pct(o.failure_rate), style="bold")
    if o.succeeded + o.failed:
        text.append(f" ({o.failed} of {o.succeeded + o.failed})", style="dim")
    text.append("\nqueue wait ", style="dim")
    text.append(_pair(o.wait_p50, o.wait_p95), style="bold")
    text.append("  run time ", style="dim")
    text.append(_pair(o.run_p50, o.run_p95), style="bold")
    text.append("  (p50 / p95)", style="dim")
    if estimate is not None:
        text.append("\nin flight, estimated ", style="dim")
        text.append(format_money(estimate.total), style="bold")
        rows = "row" if estimate.priced == 1 else "rows"
        note = f" (list prices × {estimate.priced} {rows}"
        if estimate.unpriced:
            note += f"; {estimate.unpriced} without a price or duration not counted"
        text.append(note + ")", style="dim")
    return text


#: The per-model columns after MODEL: title, and the text of a model's figures.
MODEL_COLUMNS: tuple[tuple[str, Callable[[ModelStats], str]], ...] = (
    ("Q", lambda m: str(m.queued)),
    ("P", lambda m: str(m.processing)),
    ("WAIT p50/p95", lambda m: _pair(m.wait_p50, m.wait_p95)),
    ("RUN p50/p95", lambda m: _pair(m.run_p50, m.run_p95)),
    ("/MIN", lambda m: _rate(m.completions_per_min)),
    ("FAIL", lambda m: _pct(m.failure_rate)),
)
#: With an estimate: what each model's rows in flight should cost at its list prices.
COST_COLUMN = "EST. COST"
#: On a narrow panel whole columns go, in this order, before any figure is cut.
DROPPED_FIRST = ("/MIN", "RUN p50/p95", COST_COLUMN, "WAIT p50/p95", "FAIL")
#: The cells between two columns (`padding=(0, 1)`, no edge padding).
COLUMN_GAP = 2


def models_table(
    stats: QueueStats, width: int | None = None, estimate: QueuedCost | None = None
) -> Table:
    """Per model (the busiest first) and for all models; within `width` cells, the
    columns of `DROPPED_FIRST` are left out until the rest fits whole. With an
    `estimate`, an `EST. COST` column (blank for a model without a price)."""
    ordered = sorted(
        stats.by_model.values(), key=lambda m: (-(m.queued + m.processing), m.model or "")
    )
    rows = [(Text(clean(m.model, max_len=MODEL_MAX), no_wrap=True, end=""), m) for m in ordered]
    rows.append((Text("all models", style="bold", end=""), stats.overall))
    cells = {title: [text(m) for _, m in rows] for title, text in MODEL_COLUMNS}
    shown = [title for title, _ in MODEL_COLUMNS]
    if estimate is not None:
        costs = [
            format_money(e.cost) if (e := estimate.by_model.get(m.model or "")) else ""
            for _, m in rows[:-1]
        ]
        cells[COST_COLUMN] = [*costs, format_money(estimate.total)]
        shown.insert(shown.index("/MIN"), COST_COLUMN)
    sizes = {title: max(map(cell_len, [title, *cells[title]])) for title in cells}
    model_size = max(cell_len("MODEL"), *(name.cell_len for name, _ in rows))
    for title in DROPPED_FIRST:
        if title not in shown:
            continue
        total = model_size + sum(sizes[t] + COLUMN_GAP for t in shown)
        if width is None or total <= width:
            break
        shown.remove(title)

    table = Table(
        box=None,
        padding=(0, 1),
        pad_edge=False,
        show_edge=False,
        header_style="bold dim",
        expand=False,
    )
    table.add_column("MODEL", no_wrap=True, overflow="ellipsis", max_width=MODEL_MAX)
    for title in shown:
        table.add_column(title, justify="right", no_wrap=True)
    for i, (name, _) in enumerate(rows):
        table.add_row(name, *(cells[title][i] for title in shown))
    return table


class ModelsTable:
    """`models_table` at the width it is drawn in (a resize draws it again)."""

    def __init__(self, stats: QueueStats, estimate: QueuedCost | None = None) -> None:
        self.stats = stats
        self.estimate = estimate

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield models_table(self.stats, options.max_width, self.estimate)


def failures_text(stats: QueueStats, limit: int = TOP_FAILURE_GROUPS) -> Text:
    groups = stats.failure_groups
    # One line per group: the panel is narrow and the detail pane has the full message.
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append("Failures, last 30m, by message", style="bold")
    if not groups:
        text.append("\nnone", style="dim")
        return text
    total = sum(g.count for g in groups)
    text.append(f"  ({total} in {len(groups)} groups)", style="dim")
    for group in groups[:limit]:
        text.append(f"\n{group.count:>3}× ", style="bold")
        text.append(clean(group.example, max_len=ERROR_MAX))
        models = ", ".join(
            f"{clean(name, max_len=MODEL_MAX)} {n}" for name, n in list(group.by_model.items())[:3]
        )
        if models:
            text.append(f"  ({models})", style="dim")
    if len(groups) > limit:
        text.append(f"\n  … {len(groups) - limit} more groups", style="dim")
    return text


class StatsPanel(VerticalScroll):
    """Overall figures, the depth sparkline, a per-model table and the failure groups."""

    DEFAULT_CSS = """
    StatsPanel {
        scrollbar-size-vertical: 1;
        padding: 0 1;
    }
    StatsPanel > Static {
        width: 100%;
        height: auto;
    }
    StatsPanel > #stats-depth-title {
        margin-top: 1;
    }
    StatsPanel > Sparkline {
        height: 2;
        width: 100%;
        margin-bottom: 1;
    }
    StatsPanel > #stats-failures {
        margin-top: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Stats"
        self.stats: QueueStats | None = None
        #: What the rows in flight should cost, where the hub gives prices (None: no
        #: figure, and nothing about cost is shown).
        self.estimate: QueuedCost | None = None
        self._overall = Static(Text("Waiting for the first page…", style="dim"), id="stats-overall")
        self._depth_title = Static("", id="stats-depth-title")
        self.sparkline = Sparkline([], id="stats-depth")
        self._models = Static("", id="stats-models")
        self._failures = Static("", id="stats-failures")

    def compose(self) -> ComposeResult:
        yield self._overall
        yield self._depth_title
        yield self.sparkline
        yield self._models
        yield self._failures

    def show(self, stats: QueueStats | None, estimate: QueuedCost | None = None) -> None:
        """Display `stats` (None: nothing polled yet) and the cost `estimate`, if any."""
        self.stats = stats
        self.estimate = estimate
        if stats is None:
            return
        self._overall.update(overall_text(stats, estimate))
        series = depth_series(stats.depth_history, stats.now)
        self.sparkline.data = series
        title = Text(end="")
        title.append("Queue depth", style="bold")
        if series:
            span = fmt_coarse(len(series) * DEPTH_BUCKET)
            title.append(
                f"  last {span}: now {int(series[-1])}, low {int(min(series))}, "
                f"high {int(max(series))}",
                style="dim",
            )
        else:
            title.append("  (no samples yet)", style="dim")
        self._depth_title.update(title)
        self._models.update(ModelsTable(stats, estimate))
        self._failures.update(failures_text(stats))

    @property
    def plain_text(self) -> str:
        """Everything but the sparkline, as plain text (for tests and tools)."""
        if self.stats is None:
            return ""
        console = Console(width=120, no_color=True, record=True, file=StringIO())
        console.print(overall_text(self.stats, self.estimate))
        console.print(models_table(self.stats, estimate=self.estimate))
        console.print(failures_text(self.stats))
        return console.export_text()
