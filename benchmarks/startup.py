"""Start-up: process start to the first generation row painted, in a real pty.

    python benchmarks/startup.py [--quick]

Side by side, same method, alternating runs, medians, at 80x24:

- the dashboard, `python -m queue_tui --demo` (until a status cell such as "◷ queued"
  reaches the terminal);
- the bare app: a bare Textual app painting one Static (until its text reaches the
  terminal), `_runner.py bare`;
- the floor: the same bare app, after first importing what the dashboard must have
  loaded before it can paint a row (click for the CLI, httpx for HTTP, pydantic through
  `queue_tui.api.models` for parsing), in the dashboard's order (they, then Textual),
  with the cyclic collector paused around the imports as `queue_tui.cli` does,
  `_runner.py floor`. An implementation that imports these before its first row, and
  paints it with Textual, cannot start faster than this (short of importing them faster).

Target: the dashboard's first row <= 1.5x the bare app's first paint. The report also
gives floor / bare (if that alone exceeds the target, it says so: no such
implementation could meet it) and dashboard / floor (what the dashboard adds on top of
its libraries).

The target is judged on the environment as given. When it disables bytecode caching
(`PYTHONDONTWRITEBYTECODE`, as some sandboxes and CI images do), queue_tui's own modules
(a source checkout, installed editable) are compiled on every start, which an installed
package never does; the bare app only imports installed packages, whose bytecode is
already there (the floor compiles `queue_tui.api.models` and the few queue_tui modules
it imports). So the report says which case it measured, and also measures the three
programs with a bytecode cache in the temporary home (`PYTHONPYCACHEPREFIX`), for
information.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _harness import (
    BARE_NEEDLES,
    ROW_NEEDLES,
    PtyProcess,
    Report,
    home_env,
    median,
    ms,
    parse_args,
    python,
    runner_argv,
    temp_home,
    time_to_paint,
)

TARGET = 1.5


def phases(env: dict[str, str], runs: int) -> tuple[float, dict[str, float]]:
    """Start-up phases (`_runner.py phases`): the median of each phase's length and of the
    whole start. Each run's phases are the gaps between its consecutive time stamps (in
    the order they were reached), plus the python start-up before the script's first
    line (the pty's total minus the last stamp); the medians are taken per phase, so they
    need not add up to the median total exactly."""
    totals: list[float] = []
    lengths: dict[str, list[float]] = {}
    python_start = "python start-up, up to the script's first line"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "phases.json"
        for _ in range(runs):
            report.unlink(missing_ok=True)
            with PtyProcess(runner_argv("phases", "--report", str(report)), env=env) as proc:
                proc.wait_for(ROW_NEEDLES, timeout=60)
                proc.proc.wait(timeout=30)
                total = proc.wait_for(ROW_NEEDLES) - proc.started
            totals.append(total)
            stamps = sorted(json.loads(report.read_text()).items(), key=lambda item: item[1])
            lengths.setdefault(python_start, []).append(total - stamps[-1][1] / 1000)
            for (_, before), (name, at) in itertools.pairwise(stamps):
                lengths.setdefault(name, []).append((at - before) / 1000)
    return median(totals), {name: median(values) for name, values in lengths.items()}


PROGRAMS = ("dashboard", "bare", "floor")
LABELS = {
    "dashboard": "queue-tui --demo: first row painted (median)",
    "bare": "bare Textual app: first Static painted (median)",
    "floor": "floor: bare app after click, httpx, api.models (median)",
}
FLOOR_NOTE = (
    "floor: a bare Textual app that first imports click, httpx and queue_tui.api.models,"
    " the libraries a row needs (collector paused as the dashboard pauses it)"
)


def program(name: str) -> tuple[list[str], Sequence[bytes]]:
    if name == "dashboard":
        return [python(), "-m", "queue_tui", "--demo"], ROW_NEEDLES
    return runner_argv(name), BARE_NEEDLES


def report_programs(report: Report, times: dict[str, list[float]], suffix: str = "") -> float:
    """The three programs' medians and runs, and the ratios; returns dashboard / bare."""
    for name in PROGRAMS:
        report.figure(LABELS[name], ms(median(times[name])))
        report.figure("  runs", ", ".join(ms(x) for x in times[name]))
    dashboard, bare, floor = (median(times[name]) for name in PROGRAMS)
    r = report.ratio(f"dashboard / bare app{suffix}", dashboard, bare)
    floor_ratio = report.ratio(f"floor / bare app{suffix}", floor, bare)
    report.ratio(f"dashboard / floor{suffix}", dashboard, floor)
    if floor_ratio > TARGET:
        report.note(
            f"the floor alone is {floor_ratio:.2f}x: no implementation that imports these"
            f" libraries before its first row can meet {TARGET}x"
        )
    else:
        report.note(
            f"the floor is {floor_ratio:.2f}x: {TARGET}x leaves"
            f" {ms(TARGET * bare - floor)} over the floor for everything else"
        )
    return r


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "", argv)
    runs = 1 if args.quick else 7
    # The smoke test's figures are not the real results: no warm-up runs.
    warm = not args.quick
    report = Report("startup: process start -> first row painted (pty 80x24)", quick=args.quick)
    times: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    cached: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    with temp_home() as home:
        env = home_env(home)
        no_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE")) and not env.get(
            "PYTHONPYCACHEPREFIX"
        )
        cached_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached_env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
        # One untimed start of each warms the OS file cache (bytecode, shared libraries).
        for name in PROGRAMS if warm else ():
            time_to_paint(*program(name), env)[0]
        if no_bytecode and warm:  # ... and writes the bytecode cache of the informational runs
            for name in PROGRAMS:
                time_to_paint(*program(name), cached_env)[0]
        for _ in range(runs):
            for name in PROGRAMS:
                times[name].append(time_to_paint(*program(name), env)[0])
            if no_bytecode:
                for name in PROGRAMS:
                    cached[name].append(time_to_paint(*program(name), cached_env)[0])
        total, lengths = phases(env, runs)
    warm_up = "after one warm-up run each" if warm else "no warm-up"
    report.note(f"{runs} alternating runs each, {warm_up}")
    report.note(FLOOR_NOTE)
    if no_bytecode:
        report.note(
            "PYTHONDONTWRITEBYTECODE is set: queue_tui's modules are compiled on every start"
        )
    else:
        report.note("bytecode caching on: every module's bytecode is read from its cache")
    r = report_programs(report, times)
    report.target(
        f"first row <= {TARGET}x a bare Textual app's first paint ({r:.2f}x)", r <= TARGET
    )
    if no_bytecode:
        report.section("for information: all three with a bytecode cache (as an installed package)")
        report_programs(report, cached, ", bytecode cached")
    report.section("where the dashboard's start-up goes (time-stamped runs, medians)")
    for name, length in lengths.items():
        report.figure(f"  {name}", f"+{ms(length)}")
    report.figure("total to first rows painted, as seen in the pty (these runs)", ms(total))
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
