"""Start-up: process start to the first generation row painted, in a real pty.

    python benchmarks/startup.py [--quick]

Side by side, same method, alternating runs: `python -m queue_tui --demo` (until a
status cell such as "◷ queued" reaches the terminal) vs a bare Textual app painting one
Static (until its text reaches the terminal). Medians of the runs, at 80x24.
Target: the dashboard's first row <= 1.5x the bare app's first paint.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _harness import (
    PtyProcess,
    Report,
    home_env,
    median,
    ms,
    parse_args,
    python,
    runner_argv,
    temp_home,
)

#: Status cells of the table ("◷ queued", "▶ processing"): a row has been painted.
ROW_NEEDLES = ("◷ queued".encode(), "▶ processing".encode())
BARE_NEEDLES = (b"bench-ready",)
TARGET = 1.5


def time_to_paint(argv: Sequence[str], needles: Sequence[bytes], env: dict[str, str]) -> float:
    with PtyProcess(argv, cols=80, rows=24, env=env) as proc:
        seen = proc.wait_for(needles, timeout=60)
        return seen - proc.started


def phases(env: dict[str, str], runs: int) -> tuple[float, dict[str, float]]:
    """Median time of each start-up phase (`_runner.py phases`) and of the whole start."""
    totals: list[float] = []
    stamps: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "phases.json"
        for _ in range(runs):
            report.unlink(missing_ok=True)
            with PtyProcess(runner_argv("phases", "--report", str(report)), env=env) as proc:
                proc.wait_for(ROW_NEEDLES, timeout=60)
                proc.proc.wait(timeout=30)
                totals.append(proc.wait_for(ROW_NEEDLES) - proc.started)
            for name, ms_ in json.loads(report.read_text()).items():
                stamps.setdefault(name, []).append(ms_ / 1000)
    return median(totals), {name: median(values) for name, values in stamps.items()}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "", argv)
    runs = 2 if args.quick else 7
    report = Report("startup: process start -> first row painted (pty 80x24)", quick=args.quick)
    dashboard: list[float] = []
    bare: list[float] = []
    with temp_home() as home:
        env = home_env(home)
        # One untimed start of each warms the OS file cache (bytecode, shared libraries).
        time_to_paint([python(), "-m", "queue_tui", "--demo"], ROW_NEEDLES, env)
        time_to_paint(runner_argv("bare"), BARE_NEEDLES, env)
        for _ in range(runs):
            dashboard.append(
                time_to_paint([python(), "-m", "queue_tui", "--demo"], ROW_NEEDLES, env)
            )
            bare.append(time_to_paint(runner_argv("bare"), BARE_NEEDLES, env))
        total, stamps = phases(env, max(1, runs // 2))
    report.note(f"{runs} alternating runs each, after one warm-up run each")
    report.figure("queue-tui --demo: first row painted (median)", ms(median(dashboard)))
    report.figure("  runs", ", ".join(ms(x) for x in dashboard))
    report.figure("bare Textual app: first Static painted (median)", ms(median(bare)))
    report.figure("  runs", ", ".join(ms(x) for x in bare))
    r = report.ratio("dashboard / bare app", median(dashboard), median(bare))
    report.target(
        f"first row <= {TARGET}x a bare Textual app's first paint ({r:.2f}x)", r <= TARGET
    )
    report.section("where the dashboard's start-up goes (time-stamped runs, medians)")
    last = max(stamps.values())
    report.figure("  python start-up, up to the script's first line", ms(total - last))
    previous = stamps["script"]
    for name, at in stamps.items():
        if name != "script":
            report.figure(f"  {name}", f"+{ms(at - previous)}")
            previous = at
    report.figure("total to first rows painted, as seen in the pty (these runs)", ms(total))
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
