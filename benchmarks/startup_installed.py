"""Start-up as users run it: the built wheel in a fresh virtual environment, in a pty.

    python benchmarks/startup_installed.py [--quick] [--runs N] [--rows N]

The package is built into a wheel (`pip wheel --no-deps`) and installed with its
dependencies into a fresh virtual environment, bytecode compiled (`pip install
--compile`), as `pipx` or `pip install` would. The environment is cached under
`/tmp/queue-tui-startup/<wheel hash>` (the wheel is reproducible: same source, same
hash), so a repeated run only rebuilds the wheel. Then, with that environment's
interpreter, side by side in alternating runs, medians, first paint in an 80x24 pty:

- `queue-tui --host URL` against a loopback demo hub in another process (`_runner.py
  hub`, 500 unchanging rows): until a status cell ("◷ queued") reaches the terminal;
- `queue-tui --demo` (the hub simulated in-process): the same;
- the floor: a bare Textual app that first imports click, httpx and pydantic (through
  `queue_tui.api.models`), `_runner.py floor`: what any implementation must load before
  it can paint a row;
- the floor + page: the same, painting only once it has fetched the hub's first page
  with httpx and parsed it (json, then the models), `_runner.py floor --page URL`: what
  any `--host` implementation must do before its first row, short of a faster library
  or a faster hub. Where a target proves out of reach, this shows what makes it so;
- the floor + page + table: the same, painting the page's rows in Textual's DataTable
  (`_runner.py floor --page URL --table`): the plain way to show them;
- a bare Textual app painting one Static, `_runner.py bare`.

Targets: `--host` <= 1.25x the floor, `--demo` <= 1.5x the floor. As the first page
alone takes most of what 1.25x leaves, a third line holds `--host` to 1.25x the floor +
page: the best target that floor allows. `--quick` (the smoke
test) skips the wheel and runs the project's own interpreter, once each: its figures
are not the results.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _harness import (
    BARE_NEEDLES,
    BENCH_DIR,
    ROOT,
    ROW_NEEDLES,
    Report,
    home_env,
    median,
    ms,
    python,
    runner_argv,
    start_hub,
    temp_home,
    time_to_paint,
)

HOST_TARGET = 1.25
DEMO_TARGET = 1.5
CACHE = Path(tempfile.gettempdir()) / "queue-tui-startup"
PROGRAMS = ("host", "demo", "floor", "page", "table", "bare")
LABELS = {
    "host": "queue-tui --host URL (hub in another process)",
    "demo": "queue-tui --demo",
    "floor": "floor: bare app after click, httpx, pydantic",
    "page": "floor + the first page fetched and parsed",
    "table": "floor + page + its rows in Textual's DataTable",
    "bare": "bare Textual app",
}


def build_wheel(out: Path) -> Path:
    subprocess.run(
        [python(), "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = out.glob("queue_tui-*.whl")
    return wheel


def installed_env(report: Report) -> Path:
    """The venv holding the freshly built wheel (made once per wheel hash); returns its
    bin directory."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        wheel = build_wheel(Path(tmp))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
        report.note(
            f"wheel {wheel.name} sha256 {digest}… built in {time.perf_counter() - t0:.1f} s"
        )
        home = CACHE / digest
        bin_dir = home / "venv" / "bin"
        if (home / "ok").exists():
            report.note(f"venv reused: {home}")
            return bin_dir
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        t0 = time.perf_counter()
        subprocess.run([python(), "-m", "venv", str(home / "venv")], check=True, timeout=300)
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--compile", str(wheel)],
            check=True,
            capture_output=True,
            timeout=900,
        )
        (home / "ok").write_text(wheel.name)
        report.note(f"venv made in {time.perf_counter() - t0:.1f} s: {home}")
        return bin_dir


def programs(bin_dir: Path | None, url: str) -> dict[str, tuple[list[str], Sequence[bytes]]]:
    if bin_dir is None:  # --quick: the project's interpreter and source tree
        py, cli = python(), [python(), "-m", "queue_tui"]
        runner = runner_argv
    else:
        py, cli = str(bin_dir / "python"), [str(bin_dir / "queue-tui")]

        def runner(*args: str) -> list[str]:
            return [py, str(BENCH_DIR / "_runner.py"), *args]

    return {
        "host": ([*cli, "--host", url], ROW_NEEDLES),
        "demo": ([*cli, "--demo"], ROW_NEEDLES),
        "floor": (runner("floor"), BARE_NEEDLES),
        "page": (runner("floor", "--page", url), BARE_NEEDLES),
        "table": (runner("floor", "--page", url, "--table"), BARE_NEEDLES),
        "bare": (runner("bare"), BARE_NEEDLES),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="no wheel, one run (smoke test)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rows", type=int, default=500, help="rows on the hub")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    rows = 20 if args.quick else args.rows
    report = Report(
        "startup, installed: process start -> first row painted (pty 80x24)", quick=args.quick
    )
    bin_dir = None if args.quick else installed_env(report)
    times: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    cpu: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    with temp_home() as home:
        env = home_env(home)
        hub, url = start_hub(runner_argv("hub", "--rows", str(rows)), env)
        try:
            progs = programs(bin_dir, url)
            # One untimed start of each warms the OS file cache.
            for name in PROGRAMS if not args.quick else ():
                time_to_paint(*progs[name], env, home)
            for _ in range(runs):
                for name in PROGRAMS:
                    wall, used = time_to_paint(*progs[name], env, home)
                    times[name].append(wall)
                    cpu[name].append(used)
        finally:
            hub.terminate()
            hub.wait(10)
    where = "the project's interpreter (--quick)" if bin_dir is None else f"{bin_dir.parent}"
    report.note(f"{runs} alternating runs each; interpreter: {where}; hub: {rows} rows")
    for name in PROGRAMS:
        report.figure(f"{LABELS[name]} (median)", ms(median(times[name])))
        report.figure("  runs", ", ".join(ms(x) for x in times[name]))
    host, demo, floor, page, table, bare = (median(times[name]) for name in PROGRAMS)
    report.ratio("floor / bare app", floor, bare)
    report.ratio("--host / bare app", host, bare)
    r_host = report.ratio("--host / floor", host, floor)
    r_demo = report.ratio("--demo / floor", demo, floor)
    r_page = report.ratio("floor + page / floor", page, floor)
    r_page_host = report.ratio("--host / (floor + page)", host, page)
    r_table = report.ratio("floor + page + DataTable / floor", table, floor)
    report.ratio("--host / (floor + page + DataTable)", host, table)
    report.note(
        f"over the floor: --host +{ms(host - floor)}, --demo +{ms(demo - floor)};"
        f" {HOST_TARGET}x leaves {ms((HOST_TARGET - 1) * floor)}, of which fetching and"
        f" parsing the first page takes {ms(page - floor)}"
    )
    report.section("for information: CPU seconds used by the first paint (medians)")
    report.figure("  " + ", ".join(PROGRAMS), ", ".join(ms(median(cpu[name])) for name in PROGRAMS))
    host_cpu, demo_cpu, floor_cpu, page_cpu, _, _ = (median(cpu[name]) for name in PROGRAMS)
    report.ratio("--host / floor, CPU", host_cpu, floor_cpu)
    report.ratio("--demo / floor, CPU", demo_cpu, floor_cpu)
    report.ratio("--host / (floor + page), CPU", host_cpu, page_cpu)
    report.section("targets (first paint, wall time)")
    report.target(
        f"--host first row <= {HOST_TARGET}x the floor ({r_host:.2f}x)", r_host <= HOST_TARGET
    )
    report.target(
        f"--demo first row <= {DEMO_TARGET}x the floor ({r_demo:.2f}x)", r_demo <= DEMO_TARGET
    )
    report.note(
        f"the first page alone is {r_page:.2f}x the floor, and painting its rows the plain"
        f" way (DataTable) {r_table:.2f}x: what {HOST_TARGET}x leaves for the dashboard's own"
        f" work is {ms(HOST_TARGET * floor - page)}"
    )
    report.target(
        f"--host first row <= {HOST_TARGET}x the floor + page (the best the floor allows:"
        f" the page counted in it) ({r_page_host:.2f}x)",
        r_page_host <= HOST_TARGET,
    )
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
