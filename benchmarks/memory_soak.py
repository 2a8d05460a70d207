"""Memory soak: does the dashboard's RSS stop growing when it is left open all day?

    python benchmarks/memory_soak.py [--minutes N] [--only demo|flaky] [--quick]

The real CLI runs in a real pty at 80x24 for N minutes (default 60; `--quick`: a few
seconds, the smoke test), two dashboards side by side:

- `python -m queue_tui --demo --chaos`: the embedded demo hub in-process, busy, with
  chaos faults (errors, 429s, stalls, garbage, hostile rows) on a tenth of the list
  requests;
- `python -m queue_tui --host <hub> --interval 1`: against a flaky hub in its own process
  (the demo hub, as the embedded one keeps it, with the same chaos on a third of its
  list requests), polled every second.

Their RSS (VmRSS from /proc) is sampled every few seconds. The first half of the run, at
most its first 30 minutes, is warm-up (the finished rows' linger, the statistics' window
and the hub's retention fill); growth is the slope of the least-squares line through the
samples after it, in MB per hour. Target: under 2 MB/hour for each dashboard. The ratio
printed is RSS at the end over RSS at the end of the warm-up.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from _harness import (
    ROW_NEEDLES,
    PtyProcess,
    Report,
    home_env,
    proc_status_kb,
    python,
    start_hub,
    temp_home,
)

#: RSS growth per hour after the warm-up that the target allows, in MB (10^6 bytes).
TARGET_MB_PER_HOUR = 2.0
#: The warm-up is the first half of the run, at most this long (seconds).
MAX_WARMUP = 1800.0
FLAKY_CHAOS = 0.3
FLAKY_INTERVAL = "1"


@dataclass
class Subject:
    name: str
    key: str
    proc: PtyProcess
    #: (seconds since the measurement started, RSS in kB)
    samples: list[tuple[float, int]] = field(default_factory=list)
    died: str | None = None
    #: MB per hour after the warm-up (None until measured).
    growth: float | None = None

    def sample(self, t: float) -> None:
        if self.died is not None:
            return
        if self.proc.proc.poll() is not None:
            self.died = f"exited with {self.proc.proc.returncode}"
            return
        try:
            self.samples.append((t, proc_status_kb(self.proc.pid, "VmRSS")))
        except (OSError, KeyError):
            self.died = "gone"

    def peak_kb(self) -> int:
        try:
            return proc_status_kb(self.proc.pid, "VmHWM")
        except (OSError, KeyError):
            return max((kb for _, kb in self.samples), default=0)


def slope_per_hour(points: Sequence[tuple[float, int]]) -> float:
    """Least-squares slope of RSS (kB) over time (s), in MB per hour."""
    n = len(points)
    if n < 2:
        return math.nan
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return math.nan
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 1024 * 3600 / 1e6


def mb(kb: float) -> str:
    return f"{kb * 1024 / 1e6:.1f} MB"


def run_hub() -> None:
    """Child mode: the flaky hub on loopback; prints its URL, serves until killed."""
    from queue_tui.demo.server import DemoServer, create_app
    from queue_tui.demo.simulator import QueueSimulator

    app = create_app(QueueSimulator.embedded(seed=11), chaos=FLAKY_CHAOS)
    with DemoServer(app) as server:
        print(server.url, flush=True)
        while True:
            time.sleep(3600)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds (the smoke test)")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the run")
    parser.add_argument("--only", choices=("demo", "flaky"), help="run one dashboard only")
    parser.add_argument("--hub", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.hub:
        run_hub()
        return 0
    duration = 1.5 if args.quick else args.minutes * 60.0
    every = 0.125 if args.quick else 5.0
    warmup = min(duration / 2, MAX_WARMUP)
    report = Report(
        f"memory soak: RSS of dashboards left open {duration / 60:.1f} min at 80x24, "
        f"sampled every {every:g} s",
        quick=args.quick,
    )
    subjects: list[Subject] = []
    hub: subprocess.Popen[str] | None = None
    with temp_home() as home:
        env = home_env(home)
        try:
            if args.only in (None, "demo"):
                argv_demo = [python(), "-m", "queue_tui", "--demo", "--chaos"]
                subjects.append(
                    Subject("queue-tui --demo --chaos", "demo", PtyProcess(argv_demo, env=env))
                )
            if args.only in (None, "flaky"):
                hub, url = start_hub([python(), __file__, "--hub"], env)
                argv_flaky = [python(), "-m", "queue_tui", "--host", url]
                argv_flaky += ["--interval", FLAKY_INTERVAL]
                subjects.append(
                    Subject(
                        f"queue-tui --interval {FLAKY_INTERVAL}, flaky hub",
                        "flaky",
                        PtyProcess(argv_flaky, env=env),
                    )
                )
            for s in subjects:
                s.proc.wait_for(ROW_NEEDLES, timeout=90)
            t0 = time.perf_counter()
            next_at = t0
            while True:
                now = time.perf_counter()
                for s in subjects:
                    s.sample(now - t0)
                if now - t0 >= duration:
                    break
                next_at += every
                time.sleep(max(0.0, next_at - time.perf_counter()))
            peaks = {s.key: s.peak_kb() for s in subjects}
        finally:
            for s in subjects:
                s.proc.close()
            if hub is not None:
                hub.terminate()
                hub.wait(10)

    report.section(
        f"RSS over {duration / 60:.1f} min; growth by least squares after a "
        f"{warmup / 60:.1f} min warm-up"
    )
    for s in subjects:
        if s.died is not None or len(s.samples) < 4:
            report.figure(s.name, f"died ({s.died}) after {len(s.samples)} samples")
            report.target(f"{s.name} kept running", False)
            continue
        after = [(t, kb) for t, kb in s.samples if t >= warmup]
        growth = slope_per_hour(after)
        whole = slope_per_hour(s.samples)
        start_kb, warm_kb, end_kb = s.samples[0][1], after[0][1], s.samples[-1][1]
        lo, hi = min(kb for _, kb in after), max(kb for _, kb in after)
        report.figure(
            f"{s.name}: RSS start / after warm-up / end",
            f"{mb(start_kb)} / {mb(warm_kb)} / {mb(end_kb)}",
        )
        report.figure(
            f"{s.name}: after warm-up, min / max; peak (VmHWM)",
            f"{mb(lo)} / {mb(hi)}; {mb(peaks[s.key])}",
        )
        report.figure(
            f"{s.name}: growth after warm-up (whole run)",
            f"{growth:+.2f} MB/hour ({whole:+.2f} MB/hour)",
        )
        step = max(1, len(s.samples) // 12)
        report.figure(
            f"{s.name}: RSS (MB) every {step * every:g} s",
            ", ".join(f"{kb * 1024 / 1e6:.1f}" for _, kb in s.samples[::step]),
        )
        report.ratio(f"{s.name}: RSS at the end / after warm-up", end_kb, warm_kb)
        s.growth = growth

    report.section("targets")
    for s in subjects:
        if s.growth is None:
            continue
        report.target(
            f"{s.name}: RSS growth < {TARGET_MB_PER_HOUR:g} MB/hour after warm-up "
            f"({s.growth:+.2f} MB/hour)",
            s.growth < TARGET_MB_PER_HOUR,
        )
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
