"""Idle cost: CPU and terminal bytes of a dashboard left open on a queue that does not change.

    python benchmarks/idle_cost.py [--quick]

A demo hub in its own process serves 500 active rows that never change (its simulator's
clock is stopped; `_runner.py hub`). The real CLI, `python -m queue_tui --host <hub>`,
polls it at the default interval in a real pty at 80x24 and at 160x50; only the clock
moves (ages tick, "updated Ns ago"). Measured over 60 s (`--quick`: 1.5 s) after start-up:
CPU seconds of the dashboard process (utime+stime from /proc/<pid>/stat) and bytes it
wrote to the terminal. Side by side, at the same time: a bare Textual app that rewrites a
clock in one Static every second (the floor of any live Textual app), and, for
information, `python -m queue_tui --demo` (hub simulated in-process, its data moving).
Targets (dashboard on the unchanging hub): under 1% of one core; under 500 bytes/s at 80x24.

The app as shipped crops Textual's partial line updates to the changed columns
(`queue_tui/tui/textual_patches.py`); the "stock Textual" line runs the same CLI without
that patch (`_runner.py cli --stock-textual`), for comparison.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from _harness import (
    ROW_NEEDLES,
    PtyProcess,
    Report,
    home_env,
    parse_args,
    python,
    runner_argv,
    start_hub,
    temp_home,
)

ROWS = 500
CPU_TARGET = 0.01  # of one core
BYTES_TARGET = 500.0  # per second at 80x24
SETTLE = 3.0


@dataclass
class Subject:
    name: str
    proc: PtyProcess
    needles: Sequence[bytes]
    cpu0: float = 0.0
    t0: float = 0.0
    cpu: float = 0.0
    bytes_per_s: float = 0.0

    @property
    def core_share(self) -> float:
        return self.cpu

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.cpu0 = self.proc.cpu_seconds()

    def stop(self) -> None:
        t1 = time.perf_counter()
        cpu1 = self.proc.cpu_seconds()
        span = t1 - self.t0
        self.cpu = (cpu1 - self.cpu0) / span
        self.bytes_per_s = self.proc.bytes_between(self.t0, t1) / span


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "", argv)
    # --quick: longer than the bare app's 1 s clock, so it writes: the bytes ratios are finite.
    duration = 1.5 if args.quick else 60.0
    settle = 0.5 if args.quick else SETTLE
    report = Report(
        f"idle cost: {ROWS} unchanging rows, default interval, {duration:g} s in a pty",
        quick=args.quick,
    )
    with temp_home() as home:
        env = home_env(home)
        hub, url = start_hub(runner_argv("hub", "--rows", str(ROWS)), env)
        subjects: list[Subject] = []
        try:
            dash = [python(), "-m", "queue_tui", "--host", url]
            for cols, rows in ((80, 24), (160, 50)):
                subjects.append(
                    Subject(
                        f"dashboard {cols}x{rows}",
                        PtyProcess(dash, cols=cols, rows=rows, env=env),
                        ROW_NEEDLES,
                    )
                )
                subjects.append(
                    Subject(
                        f"bare Textual app, 1 s clock, {cols}x{rows}",
                        PtyProcess(runner_argv("bare", "--tick"), cols=cols, rows=rows, env=env),
                        (b"bench-ready",),
                    )
                )
            subjects.append(
                Subject(
                    "dashboard 80x24 on stock Textual (no crop fix)",
                    PtyProcess(runner_argv("cli", "--stock-textual", "--", "--host", url), env=env),
                    ROW_NEEDLES,
                )
            )
            subjects.append(
                Subject(
                    "queue-tui --demo (in-process hub, data moving), 80x24",
                    PtyProcess([python(), "-m", "queue_tui", "--demo"], env=env),
                    ROW_NEEDLES,
                )
            )
            for s in subjects:
                s.proc.wait_for(s.needles, timeout=60)
            time.sleep(settle)
            for s in subjects:
                s.start()
            time.sleep(duration)
            for s in subjects:
                s.stop()
        finally:
            for s in subjects:
                s.proc.close()
            hub.terminate()
            hub.wait(10)

    by_name = {s.name: s for s in subjects}
    d = by_name["dashboard 80x24"]
    slices = max(1, int(duration // 10))
    step = duration / slices
    per_slice = [
        d.proc.bytes_between(d.t0 + i * step, d.t0 + (i + 1) * step) / step for i in range(slices)
    ]
    report.section(f"measured over {duration:g} s, after {settle:g} s of settling")
    for s in subjects:
        report.figure(
            f"{s.name}",
            f"{s.cpu * 60:.2f} CPU s/min ({s.cpu:.2%} of a core), {s.bytes_per_s:,.0f} B/s",
        )
    report.figure(
        f"dashboard 80x24, B/s in {step:.0f} s slices",
        ", ".join(f"{x:,.0f}" for x in per_slice),
    )
    for name, (t0, t1) in (
        ("whole window", (d.t0, d.t0 + duration)),
        ("last slice", (d.t0 + duration - step, d.t0 + duration)),
    ):
        lines = d.proc.bytes_by_line(t0, t1)
        busiest = sorted(lines.items(), key=lambda kv: -kv[1])[:8]
        report.figure(
            f"dashboard 80x24, B/s by screen line, {name}",
            ", ".join(f"{line}: {n / (t1 - t0):,.0f}" for line, n in busiest),
        )
    for cols, rows in ((80, 24), (160, 50)):
        d = by_name[f"dashboard {cols}x{rows}"]
        b = by_name[f"bare Textual app, 1 s clock, {cols}x{rows}"]
        report.ratio(f"{cols}x{rows} dashboard / bare app, CPU", d.cpu, b.cpu)
        report.ratio(f"{cols}x{rows} dashboard / bare app, bytes", d.bytes_per_s, b.bytes_per_s)

    report.section("targets (dashboard on the unchanging hub)")
    for cols, rows in ((80, 24), (160, 50)):
        d = by_name[f"dashboard {cols}x{rows}"]
        report.target(
            f"CPU under {CPU_TARGET:.0%} of one core at {cols}x{rows} ({d.cpu:.2%})",
            d.cpu < CPU_TARGET,
        )
    d = by_name["dashboard 80x24"]
    report.target(
        f"under {BYTES_TARGET:.0f} bytes/s at 80x24 ({d.bytes_per_s:,.0f} B/s)",
        d.bytes_per_s < BYTES_TARGET,
    )
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
