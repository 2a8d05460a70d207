"""Bandwidth: bytes written to the terminal for a poll in which one visible row changes
status, vs a full repaint of the same screen.

    python benchmarks/bandwidth.py [--quick]

The real dashboard (QueueApp) runs in a real pty on an in-process demo hub of 500 rows
whose data and clock are frozen, so it writes nothing by itself (`_runner.py dashboard`).
SIGUSR1 makes one visible queued row start processing on the hub and polls once; SIGUSR2
repaints the whole screen (`Screen.refresh()`): the baseline, measured the same way.
Both at 80x24 and 160x50, with the default sort (age, oldest first: queue order, so the
row stays on its line) and sorted by status (the row moves up into the processing group).
Target: a one-row poll writes <= 10% of a full repaint's bytes, with the default sort.
Sorted by status the row really moves to another line and every line between the two
shows another row (Textual writes whole lines and never scrolls a terminal region), so
that figure is printed for information, not as a target.

The app as shipped crops Textual's partial line updates to the changed columns
(`queue_tui/tui/textual_patches.py`); the "stock Textual" lines run the same app without
that patch (`_runner.py dashboard --stock-textual`), for comparison.
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    ROW_NEEDLES,
    PtyProcess,
    Report,
    home_env,
    median,
    parse_args,
    runner_argv,
    temp_home,
)

TARGET = 0.10


@dataclass(frozen=True)
class Pace:
    """How much each measurement does and how long it waits for the app to go quiet."""

    rows: int  # on the hub
    repeats: int
    quiet: float  # no output for this long: the app has finished writing
    first_quiet: float  # the same, after start-up
    idle: float  # seconds watched with nothing happening


FULL = Pace(rows=500, repeats=5, quiet=0.3, first_quiet=0.5, idle=1.0)
#: The smoke test's: enough rows to fill 80x24 with queued rows after the processing
#: ones; the figures are not the real results.
QUICK = Pace(rows=60, repeats=1, quiet=0.1, first_quiet=0.1, idle=0.1)


def wait_event(path: Path, count: int, timeout: float = 20.0) -> list[dict]:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if path.exists():
            events = [json.loads(line) for line in path.read_text().splitlines() if line]
            if len(events) >= count:
                return events
        time.sleep(0.01)
    raise TimeoutError(f"no event {count} in {path}")


def burst(
    proc: PtyProcess, signum: int, report_file: Path, count: int, quiet: float
) -> tuple[int, dict]:
    """Send a signal; bytes written until the app has handled it and gone quiet."""
    proc.wait_quiet(quiet)
    t0 = time.perf_counter()
    proc.signal(signum)
    event = wait_event(report_file, count)[-1]
    # The event may be logged just before the repaint reaches the terminal.
    last = proc.wait_quiet(quiet, since=time.perf_counter())
    return proc.bytes_between(t0, last + 1e-6), event


def measure(
    cols: int, rows: int, sort: str | None, pace: Pace, *, stock_textual: bool = False
) -> dict[str, object]:
    with temp_home() as home, tempfile.TemporaryDirectory() as tmp:
        report_file = Path(tmp) / "events.jsonl"
        argv = runner_argv("dashboard", "--rows", str(pace.rows), "--report", str(report_file))
        if sort:
            argv += ["--sort", sort]
        if stock_textual:
            argv.append("--stock-textual")
        with PtyProcess(argv, cols=cols, rows=rows, env=home_env(home)) as proc:
            proc.wait_for(ROW_NEEDLES, timeout=60)
            wait_event(report_file, 1, timeout=60)
            first_quiet = proc.wait_quiet(pace.first_quiet)
            first_paint = proc.bytes_between(0, first_quiet + 1e-6)
            events = 1
            full: list[int] = []
            one_row: list[int] = []
            moves: list[dict] = []
            for _ in range(pace.repeats):
                events += 1
                n, _ = burst(proc, signal.SIGUSR2, report_file, events, pace.quiet)
                full.append(n)
                events += 1
                n, event = burst(proc, signal.SIGUSR1, report_file, events, pace.quiet)
                if "error" in event:
                    raise RuntimeError(event["error"])
                one_row.append(n)
                moves.append(event)
            idle_t0 = time.perf_counter()
            time.sleep(pace.idle)
            idle = proc.bytes_between(idle_t0, time.perf_counter())
    return {
        "first_paint": first_paint,
        "full": full,
        "one_row": one_row,
        "moves": moves,
        "idle": idle,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "", argv)
    pace = QUICK if args.quick else FULL
    sizes = [(80, 24)] if args.quick else [(80, 24), (160, 50)]
    report = Report(
        f"bandwidth: one visible row changes status vs a full repaint ({pace.rows} rows, pty)",
        quick=args.quick,
    )
    verdicts: list[tuple[str, float]] = []
    for cols, rows in sizes:
        for sort in (None, "status"):
            label = f"{cols}x{rows}, sorted by {sort or 'age (default)'}"
            report.section(label)
            r = measure(cols, rows, sort, pace)
            full = median(r["full"])  # type: ignore[arg-type]
            one = median(r["one_row"])  # type: ignore[arg-type]
            moves = r["moves"]
            lines = ", ".join(
                f"{m['line_before']}->{m['line_after']}"
                for m in moves  # type: ignore[union-attr]
            )
            report.figure("first paint (start-up), bytes", f"{r['first_paint']:,}")
            report.figure("full repaint (Screen.refresh), bytes, median", f"{full:,.0f}")
            report.figure("poll with one row changed, bytes, median", f"{one:,.0f}")
            report.figure("  runs", ", ".join(f"{x:,}" for x in r["one_row"]))  # type: ignore[union-attr]
            report.figure("  the changed row's screen line, before->after", lines)
            report.figure(
                "  table re-sorted / cells rewritten",
                ", ".join(f"{m['resorted']}/{m['changed_cells']}" for m in moves),  # type: ignore[union-attr]
            )
            report.figure(
                f"bytes written in {pace.idle:g} s with nothing happening", f"{r['idle']:,}"
            )
            ratio = report.ratio("one-row poll / full repaint", one, full)
            if sort is None:
                verdicts.append((label, ratio))
            else:
                report.note("for information: the row moves, so the lines between change")
            w = measure(cols, rows, sort, pace, stock_textual=True)
            w_full = median(w["full"])  # type: ignore[arg-type]
            w_one = median(w["one_row"])  # type: ignore[arg-type]
            report.figure(
                "stock Textual (no crop fix): one-row poll, bytes",
                f"{w_one:,.0f} ({w_one / w_full:.1%} of {w_full:,.0f})",
            )
    report.section("targets")
    for label, ratio in verdicts:
        report.target(
            f"one-row poll <= {TARGET:.0%} of a full repaint, {label} ({ratio:.1%})",
            ratio <= TARGET,
        )
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
