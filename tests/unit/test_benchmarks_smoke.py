"""The benchmarks still run: each script once with `--quick` (tiny sizes, short runs).

No timed assertions: a benchmark that runs and reports every figure and target passes
whatever the figures are (MET or NOT MET). The seeded poll script, the percentile and
the pty reader that every benchmark relies on are checked for correctness.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = [
    "refresh_cost",
    "idle_cost",
    "bandwidth",
    "startup",
    "memory",
    "memory_soak",
    "history_stream",
    "startup_installed",
    "big_queue",
]
TARGET_LINE = re.compile(r"^target: .+: (MET|NOT MET)$", re.MULTILINE)
RATIO_LINE = re.compile(r"\d\.\d{3}x$", re.MULTILINE)
#: Lines a benchmark's report must hold besides its targets and ratios.
EXPECTED = {
    "startup": [
        re.compile(r"^   queue-tui --demo: first row painted \(median\) +\d+\.\d ms$", re.M),
        re.compile(r"^   bare Textual app: first Static painted \(median\) +\d+\.\d ms$", re.M),
        re.compile(
            r"^   floor: bare app after click, httpx, api.models \(median\) +\d+\.\d ms$", re.M
        ),
        re.compile(r"^   dashboard / bare app +\d+\.\d{3}x$", re.M),
        re.compile(r"^   floor / bare app +\d+\.\d{3}x$", re.M),
        re.compile(r"^   dashboard / floor +\d+\.\d{3}x$", re.M),
        re.compile(r"^   the floor (alone )?is \d+\.\d\dx: ", re.M),
    ],
    "startup_installed": [
        re.compile(rf"^   {name} \(median\) +\d+\.\d ms$", re.M)
        for name in (
            r"queue-tui --host URL \(hub in another process\)",
            r"queue-tui --demo",
            r"floor: bare app after click, httpx, pydantic",
            r"floor \+ the first page fetched and parsed",
            r"bare Textual app",
        )
    ]
    + [
        re.compile(rf"^   {name} +\d+\.\d{{3}}x$", re.M)
        for name in (r"--host / floor", r"--demo / floor", r"--host / \(floor \+ page\)")
    ],
    "big_queue": [
        # (--quick: the floor may use no clock tick of CPU in its short window: inf.)
        re.compile(r"^   dashboard / floor, CPU +(\d+\.\d{3}|inf)x$", re.M),
        re.compile(
            r"^   \d[\d,]* rows: median / p95 / max +[\d.]+ ms / [\d.]+ ms / [\d.]+ ms$", re.M
        ),
        re.compile(r"^target: key p95 at [\d,]+ rows <= 2.0x at [\d,]+ ", re.M),
        re.compile(r"^target: key max at [\d,]+ rows <= 4.0x at [\d,]+ ", re.M),
    ],
    "memory": [re.compile(r"^target: extra peak per row at [\d,]+ rows <= 4 KiB", re.M)],
    "memory_soak": [
        re.compile(rf"^   {name}: growth after warm-up \(whole run\) +[+-]\d+\.\d\d MB/hour", re.M)
        for name in (r"queue-tui --demo --chaos", r"queue-tui --interval 1, flaky hub")
    ],
}

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the benchmarks read /proc and use a pty"
)


@pytest.fixture(scope="module")
def harness():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import _harness

        yield _harness
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_runs_quick_and_reports_targets(name: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "QUEUE_TUI"))}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stdout.startswith("== "), out.stdout[:500]
    assert "(--quick" in out.stdout.splitlines()[0]
    assert TARGET_LINE.search(out.stdout), out.stdout[-2000:]
    assert RATIO_LINE.search(out.stdout), out.stdout[-2000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    for line in EXPECTED.get(name, []):
        assert line.search(out.stdout), (line.pattern, out.stdout[-3000:])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("gc_pause", [True, False])
def test_floor_imports_a_rows_libraries_before_textual(gc_pause: bool) -> None:
    """`_runner.py floor` (startup.py's floor) imports click, httpx, pydantic and the
    models, then Textual, as the dashboard does; collector paused unless told not to."""
    code = (
        "import gc, json, sys; sys.path.insert(0, sys.argv[1]); import _runner\n"
        "def report(tick, page=None, table=False):\n"
        "    print(json.dumps([list(sys.modules), gc.get_freeze_count(), tick]))\n"
        "_runner.run_bare = report\n"
        "_runner.main(sys.argv[2:])"
    )
    argv = ["floor"] if gc_pause else ["floor", "--no-gc-pause"]
    out = subprocess.run(
        [sys.executable, "-c", code, str(BENCHMARKS), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=True,
    )
    modules, frozen, tick = json.loads(out.stdout)
    order = {name: modules.index(name) for name in modules}
    for name in ("click", "httpx", "pydantic", "queue_tui.api.models"):
        assert order[name] < order["textual.app"], name
    assert "textual.widgets" in order
    assert "starlette" not in order  # the demo hub is not part of the floor
    assert (frozen > 0) is gc_pause
    assert tick is False


def test_p95_interpolates_between_ranks(harness) -> None:
    assert harness.p95([5.0]) == 5.0
    assert harness.p95(list(range(1, 21))) == pytest.approx(19.05)
    assert harness.p95([3.0, 1.0, 2.0]) == pytest.approx(2.9)


def test_poll_script_has_the_promised_churn(harness) -> None:
    n, polls = 400, 6
    script = harness.make_poll_script(n, polls)
    assert len(script.initial) == n
    previous = {r["generation_id"]: r for r in script.initial}
    now = script.start
    for when, rows in script.polls:
        assert when == pytest.approx(now + script.interval)
        now = when
        current = {r["generation_id"]: r for r in rows}
        assert len(current) == len(rows) == n
        new = current.keys() - previous.keys()
        gone = previous.keys() - current.keys()
        changed = [gid for gid in current.keys() & previous.keys() if current[gid] != previous[gid]]
        assert len(new) == len(gone) == 4  # 1% of 400
        assert len(changed) == 20  # 5% of 400
        assert all(current[g]["status"] == "queued" for g in new)
        assert all(now - current[g]["enqueued_at"] <= 2 for g in new)
        previous = current
    assert harness.make_poll_script(n, polls).polls == script.polls  # seeded


def test_poll_script_keeps_the_queue_shape(harness) -> None:
    script = harness.make_poll_script(1000, 8)
    shapes = [Counter(r["status"] for r in rows) for _, rows in script.polls]
    assert {s["processing"] for s in shapes[1:]} == {shapes[1]["processing"]}


def test_pty_process_reads_every_byte_at_the_given_size(harness) -> None:
    # Alive until `close` types its "q" (unbuffered input: no Enter needed).
    code = (
        "import os, sys, tty; tty.setcbreak(0); size = os.get_terminal_size(); "
        "sum(range(5_000_000)); "
        "sys.stdout.write('x' * 10000 + f'size={size.columns}x{size.lines}'); "
        "sys.stdout.flush(); sys.stdin.read(1)"
    )
    with harness.PtyProcess([sys.executable, "-c", code], cols=123, rows=45) as proc:
        proc.wait_for([b"size=123x45"], timeout=30)
        assert proc.output.count(b"x") == 10000 + 1
        assert proc.bytes_between(proc.started, time.perf_counter()) == len(proc.output)
        assert proc.cpu_seconds() > 0.0
