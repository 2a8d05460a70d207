"""A big queue: keys and CPU at 10,000 rows while polls land, in real ptys.

    python benchmarks/big_queue.py [--quick]

Two hubs in their own processes (`_runner.py hub --churn`), one with 10,000 active rows
and one with 100, each changing 0.2% of its rows (at least one) every 2 s: a queued row
starts, or a running row's start moves. The real CLI, `queue-tui --host URL` at the
default interval, runs at 80x24 against each (`_runner.py keys`: it marks on the
terminal, with an escape sequence the terminal ignores, the first frame that shows a
timed key's effect).

- CPU: over 40 s (`--quick`: 0.5 s) the CPU seconds of the 10,000-row dashboard, side by
  side with a floor process (`_runner.py poll-floor`) that only fetches the same page
  from the same hub at the same interval, over one kept-alive connection, and parses and
  validates it (json, then the models). Target: <= 1.5x the floor.
- Keys: `j j k G g s / <letter>` (then `backspace escape`, not timed) at random moments
  (0.3-1.2 s apart) over at least 20 polls, alternately to both dashboards; each key's
  time is from writing it to the pty to reading the mark of the frame with its effect.
  Targets: at 10,000 rows the p95 <= 2x and the max <= 4x those at 100 rows.
- For information: each dashboard's peak RSS (`benchmarks/memory.py` has the memory
  target).
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from collections.abc import Sequence

from _harness import (
    ROW_NEEDLES,
    PtyProcess,
    Report,
    home_env,
    median,
    ms,
    p95,
    parse_args,
    proc_cpu_seconds,
    proc_status_kb,
    runner_argv,
    start_hub,
    start_ready,
    temp_home,
)

CHURN = 0.002
INTERVAL = 2.0
CPU_TARGET = 1.5
P95_TARGET = 2.0
MAX_TARGET = 4.0
TIMED = ("j", "j", "k", "G", "g", "s", "/", "letter")
UNTIMED = (b"\x7f", b"\x1b")  # backspace (the search is empty again), escape (the table)
KEY_BYTES = {"/": b"/"}
MARK = re.compile(rb"\x1b\]9999;k(\d+)\x07")


class Dashboard:
    """One instrumented dashboard and the timed keys sent to it."""

    def __init__(self, name: str, url: str, env: dict[str, str]) -> None:
        self.name = name
        self.proc = PtyProcess(runner_argv("keys", "--", "--host", url), env=env)
        self.sent = 0
        self.latencies: list[float] = []
        self.by_key: dict[str, list[float]] = {}

    def press(self, key: str, rng: random.Random, timeout: float = 30.0) -> None:
        data = bytes([rng.choice(b"aeimorst")]) if key == "letter" else KEY_BYTES.get(key)
        self.sent += 1
        mark = f"\x1b]9999;k{self.sent}\x07".encode()
        t0 = time.perf_counter()
        self.proc.send(data or key.encode())
        seen = self.proc.wait_for([mark], timeout=timeout)
        latency = max(0.0, seen - t0)
        self.latencies.append(latency)
        self.by_key.setdefault(key, []).append(latency)

    def untimed(self, data: bytes) -> None:
        self.proc.send(data)


def poll_floor(url: str, env: dict[str, str]) -> subprocess.Popen[str]:
    argv = runner_argv("poll-floor", url, "--interval", str(INTERVAL))
    return start_ready(argv, env, lambda line: line == "ready", "the poll floor")[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "", argv)
    big, small = (500, 50) if args.quick else (10_000, 100)
    cpu_window = 0.5 if args.quick else 40.0
    # --quick: one round of the keys, however few polls it spans.
    min_polls = 0 if args.quick else 20
    report = Report(
        f"big queue: {big:,} vs {small:,} rows, {CHURN:.1%} changing per {INTERVAL:g} s poll,"
        " 80x24 ptys",
        quick=args.quick,
    )
    rng = random.Random(17)
    with temp_home() as home:
        env = home_env(home)
        hubs = [
            start_hub(runner_argv("hub", "--rows", str(n), "--churn", str(CHURN)), env)
            for n in (big, small)
        ]
        floor: subprocess.Popen[str] | None = None
        dashboards: list[Dashboard] = []
        try:
            (_, big_url), (_, small_url) = hubs
            dashboards = [Dashboard("big", big_url, env), Dashboard("small", small_url, env)]
            for d in dashboards:
                d.proc.wait_for(ROW_NEEDLES, timeout=120)
            floor = poll_floor(big_url, env)
            time.sleep(2 * INTERVAL if not args.quick else 0.2)
            # CPU, no keys: the dashboard and the floor over the same window.
            dash = dashboards[0]
            t0 = time.perf_counter()
            c0, f0 = dash.proc.cpu_seconds(), proc_cpu_seconds(floor.pid)
            time.sleep(cpu_window)
            span = time.perf_counter() - t0
            dash_cpu = (dash.proc.cpu_seconds() - c0) / span
            floor_cpu = (proc_cpu_seconds(floor.pid) - f0) / span
            floor.terminate()
            floor.wait(10)
            floor = None
            # Keys at random moments, alternately, over at least `min_polls` polls.
            started = time.perf_counter()
            rounds = 0
            while time.perf_counter() - started < min_polls * INTERVAL or rounds < 1:
                rounds += 1
                for key in TIMED:
                    for d in dashboards:
                        time.sleep(rng.uniform(0.02, 0.1) if args.quick else rng.uniform(0.3, 1.2))
                        d.press(key, rng)
                for data in UNTIMED:
                    for d in dashboards:
                        d.untimed(data)
                    time.sleep(0.1 if args.quick else 0.3)
            keys_span = time.perf_counter() - started
            peaks = {d.name: proc_status_kb(d.proc.pid, "VmHWM") for d in dashboards}
        finally:
            if floor is not None:
                floor.terminate()
                floor.wait(10)
            for d in dashboards:
                d.proc.close()
            for hub, _ in hubs:
                hub.terminate()
                hub.wait(10)

    big_d, small_d = dashboards
    report.section(f"CPU over {cpu_window:g} s, no keys ({big:,} rows)")
    report.figure("dashboard", f"{dash_cpu * 60:.2f} CPU s/min ({dash_cpu:.1%} of a core)")
    report.figure(
        "floor: fetch + json + models, same page, same interval",
        f"{floor_cpu * 60:.2f} CPU s/min ({floor_cpu:.1%} of a core)",
    )
    r_cpu = report.ratio("dashboard / floor, CPU", dash_cpu, floor_cpu)
    report.section(
        f"keys: {len(big_d.latencies)} timed keys each over {keys_span:.0f} s"
        f" (~{keys_span / INTERVAL:.0f} polls), {rounds} rounds of {' '.join(TIMED)}"
    )
    for d, n in ((big_d, big), (small_d, small)):
        report.figure(
            f"{n:,} rows: median / p95 / max",
            f"{ms(median(d.latencies))} / {ms(p95(d.latencies))} / {ms(max(d.latencies))}",
        )
        report.figure(
            "  p95 by key",
            ", ".join(f"{k} {p95(v) * 1000:.0f}" for k, v in sorted(d.by_key.items())),
        )
    r_p95 = report.ratio(
        f"p95 {big:,} / {small:,} rows", p95(big_d.latencies), p95(small_d.latencies)
    )
    r_max = report.ratio(
        f"max {big:,} / {small:,} rows", max(big_d.latencies), max(small_d.latencies)
    )
    report.section("for information: peak RSS")
    report.figure(
        f"{big:,} / {small:,} rows",
        f"{peaks['big'] / 1024:.1f} MiB / {peaks['small'] / 1024:.1f} MiB"
        f" ({(peaks['big'] - peaks['small']) / (big - small):.2f} KiB per row)",
    )
    report.section("targets")
    report.target(
        f"CPU at {big:,} rows <= {CPU_TARGET}x the floor ({r_cpu:.2f}x)", r_cpu <= CPU_TARGET
    )
    report.target(
        f"key p95 at {big:,} rows <= {P95_TARGET}x at {small:,} ({r_p95:.2f}x)", r_p95 <= P95_TARGET
    )
    report.target(
        f"key max at {big:,} rows <= {MAX_TARGET}x at {small:,} ({r_max:.2f}x)", r_max <= MAX_TARGET
    )
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
