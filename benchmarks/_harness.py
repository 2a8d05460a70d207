"""Shared helpers for the benchmarks.

- `Report`: prints figures, ratios against the side-by-side baseline of the same run,
  and `target: ... MET/NOT MET` lines (also kept in `report.results` for tests).
- Seeded data: `seeded_rows(n)` (rows as the demo simulator serves them) and
  `make_poll_script(n, polls)` (a page, then pages with 1% new, 1% gone, 5% changed).
- `StallMeter`: how long a headless app's event loop is blocked by an update, up to the
  repaint (a ticker task measures loop lag; the screen's compositor refresh is hooked).
- `PtyProcess`: a program in a real pseudo-terminal of a given size; every byte it
  writes is read (in a thread) and time-stamped; its CPU time comes from /proc.

Benchmarks run with the project's interpreter: `.venv/bin/python benchmarks/<name>.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import itertools
import json
import math
import os
import random
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
RUNNER = BENCH_DIR / "_runner.py"
#: The demo's fixed start time (same as `queue_tui.screenshots.frozen.DEMO_START`).
DEMO_START = 1_764_000_000.0
DEMO_SEED = 7


# -- arguments and statistics ------------------------------------------------------------


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and short runs (the smoke test)"
    )
    return parser.parse_args(argv)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def p95(values: Sequence[float]) -> float:
    """95th percentile, linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = 0.95 * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def ratio(a: float, b: float) -> float:
    return a / b if b else math.inf


# -- reporting ------------------------------------------------------------------------


@dataclass
class Target:
    description: str
    met: bool


@dataclass
class Report:
    """Everything a benchmark printed, for the smoke test and RESULTS.md."""

    title: str
    quick: bool = False
    figures: list[tuple[str, str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def __post_init__(self) -> None:
        mode = " (--quick: tiny sizes, figures are not the real results)" if self.quick else ""
        print(f"== {self.title}{mode}")
        print(f"   python {sys.version.split()[0]}, {os.cpu_count()} cpu, {platform_line()}")
        print(f"   {git_line()}; load average at start {load_line()}")
        sys.stdout.flush()

    def section(self, text: str) -> None:
        print(f"\n-- {text}")
        sys.stdout.flush()

    def figure(self, name: str, value: str) -> None:
        self.figures.append((name, value))
        print(f"   {name:<58} {value}")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        print(f"   {text}")
        sys.stdout.flush()

    def ratio(self, name: str, a: float, b: float) -> float:
        r = ratio(a, b)
        self.figure(name, f"{r:.3f}x")
        return r

    def done(self) -> None:
        print(f"\n   load average at end {load_line()}")
        sys.stdout.flush()

    def target(self, description: str, met: bool) -> None:
        self.targets.append(Target(description, met))
        print(f"target: {description}: {'MET' if met else 'NOT MET'}")
        sys.stdout.flush()


def load_line() -> str:
    """1/5/15-minute load averages: other work on the machine skews every figure."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def git_line() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return "commit unknown"
    return f"commit {out.stdout.strip() or 'unknown'}"


def platform_line() -> str:
    import textual

    from queue_tui.tui.textual_patches import crop_fix_applies

    # An upgrade the crop fix does not know shows here (and in the idle and bandwidth
    # figures), not as a red test: see queue_tui/tui/textual_patches.py.
    fix = "crop fix on" if crop_fix_applies() else "crop fix OFF: unknown Textual source"
    return f"textual {textual.__version__} ({fix}), {os.uname().sysname} {os.uname().machine}"


# -- seeded data ----------------------------------------------------------------------


def seeded_rows(n: int, *, seed: int = DEMO_SEED, start: float = DEMO_START) -> list[dict]:
    """`n` active rows as the demo hub serves them (`enqueued_at` ascending)."""
    from queue_tui.demo.clock import FakeClock
    from queue_tui.demo.simulator import QueueSimulator

    sim = QueueSimulator.with_active_rows(n, seed, clock=FakeClock(start))
    return sim.list()


def page_body(rows: Sequence[dict]) -> bytes:
    return json.dumps({"count": len(rows), "generations": list(rows)}).encode()


@dataclass
class PollScript:
    """A first page and the pages of the polls that follow, `interval` seconds apart."""

    start: float
    interval: float
    initial: list[dict]
    polls: list[tuple[float, list[dict]]]


def make_poll_script(
    n: int,
    polls: int,
    *,
    interval: float = 2.0,
    new: float = 0.01,
    gone: float = 0.01,
    changed: float = 0.05,
    seed: int = DEMO_SEED,
) -> PollScript:
    """Each poll, the clock moves `interval` seconds and:

    - `gone` of n rows vanish: processing rows that finished (longest running first),
      then queued rows (cancelled) if there are not enough;
    - `changed` of n rows change: as many of the oldest queued rows start processing
      (status, wait and run change) as rows finished, so the queue keeps its shape;
      the rest are random rows whose enqueued_at (queued) or started_at (processing)
      the hub moves back 1-30 s (their age, wait or run change);
    - `new` of n rows appear, just enqueued.
    """
    rng = random.Random(seed * 31 + n)
    per_new = max(1, round(n * new))
    per_gone = max(1, round(n * gone))
    per_changed = max(1, round(n * changed))
    pool = seeded_rows(n + per_new * polls, seed=seed)
    rng.shuffle(pool)
    current = {r["generation_id"]: r for r in sorted(pool[:n], key=lambda r: r["enqueued_at"])}
    spare = pool[n:]
    initial = [dict(r) for r in current.values()]
    out: list[tuple[float, list[dict]]] = []
    now = DEMO_START
    for _ in range(polls):
        now += interval
        running = sorted(
            (r for r in current.values() if r["status"] == "processing"),
            key=lambda r: r["started_at"],
        )
        queued = [r for r in current.values() if r["status"] == "queued"]
        finished = [r["generation_id"] for r in running[:per_gone]]
        finished += [r["generation_id"] for r in rng.sample(queued, per_gone - len(finished))]
        for gid in finished:
            del current[gid]
        starting = [r for r in queued if r["generation_id"] in current][:per_gone]
        for row in starting:
            current[row["generation_id"]] = {
                **row,
                "status": "processing",
                "started_at": int(now) - rng.randint(0, 1),
            }
        started = {r["generation_id"] for r in starting}
        others = sorted(gid for gid in current if gid not in started)
        for gid in rng.sample(others, per_changed - len(starting)):
            row = dict(current[gid])
            field = "started_at" if row["status"] == "processing" else "enqueued_at"
            row[field] -= rng.randint(1, 30)
            current[gid] = row
        for _ in range(per_new):
            row = dict(spare.pop())
            row.update(
                status="queued",
                started_at=None,
                completed_at=None,
                enqueued_at=int(now) - rng.randint(0, 1),
            )
            current[row["generation_id"]] = row
        out.append((now, [dict(r) for r in current.values()]))
    return PollScript(start=DEMO_START, interval=interval, initial=initial, polls=out)


# -- loop stalls in a headless app ----------------------------------------------------


@dataclass
class Stall:
    update: float  # the update call itself
    after: float  # the longest loop stall after it, until the screen was repainted
    gc: float = 0.0  # time spent in Python's cyclic GC from the update to the repaint

    @property
    def total(self) -> float:
        return self.update + self.after


class StallMeter:
    """Measures how long an update blocks a running app's event loop.

    A ticker task wakes every `tick` seconds and records when it ran; the screen's
    compositor refresh is wrapped to record each repaint. `measure(action)` times the
    (synchronous) action, then waits for a repaint and for `quiet` seconds without one,
    and returns the action's time plus the longest gap between ticker wake-ups after it.
    """

    def __init__(self, screen: Any, *, tick: float = 0.001, quiet: float = 0.05) -> None:
        self.screen = screen
        self.tick = tick
        self.quiet = quiet
        self.wakes: list[float] = []
        self.paints: list[float] = []
        self.gc_spans: list[tuple[float, float]] = []
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None
        original = screen._compositor_refresh

        def compositor_refresh() -> None:
            original()
            self.paints.append(time.perf_counter())

        screen._compositor_refresh = compositor_refresh

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_spans.append((self._gc_started, time.perf_counter()))

    def gc_time(self, t0: float, t1: float) -> float:
        return sum(b - a for a, b in self.gc_spans if a >= t0 and b <= t1)

    async def __aenter__(self) -> StallMeter:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._ticker())
        await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _ticker(self) -> None:
        while True:
            self.wakes.append(time.perf_counter())
            if len(self.wakes) > 100_000:
                del self.wakes[:50_000]
            await asyncio.sleep(self.tick)

    async def measure(self, action: Callable[[], Any], *, timeout: float = 60.0) -> Stall:
        t0 = time.perf_counter()
        action()
        t1 = time.perf_counter()
        deadline = t1 + timeout
        while not (self.paints and self.paints[-1] >= t1):
            if time.perf_counter() > deadline:
                raise TimeoutError("no repaint after the update")
            await asyncio.sleep(self.tick)
        while time.perf_counter() - self.paints[-1] < self.quiet:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(self.tick)
        wakes = [w for w in self.wakes if w >= t1]
        gaps = [b - a for a, b in itertools.pairwise(wakes)]
        # The first wake after the action may itself have been held up by it.
        if wakes:
            gaps.append(wakes[0] - t1)
        after = max(gaps, default=0.0)
        return Stall(
            update=t1 - t0,
            after=max(0.0, after - self.tick),
            gc=self.gc_time(t0, time.perf_counter()),
        )


# -- a real pseudo-terminal -----------------------------------------------------------


def pty_env(**extra: str) -> dict[str, str]:
    """A clean environment for a child in a pty: no user config, no Textual dev flags."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEXTUAL", "QUEUE_TUI", "OXEN")) and k not in ("NO_COLOR",)
    }
    env.update(TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.update(extra)
    return env


def clk_tck() -> int:
    return os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc/<pid>/stat (children not included)."""
    with open(f"/proc/{pid}/stat", "rb") as fh:
        data = fh.read().decode()
    fields = data[data.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / clk_tck()


def proc_status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


class PtyProcess:
    """A child process attached to a fresh pty of `cols` x `rows`.

    Output is drained continuously by a reader thread into `chunks` (perf_counter time,
    bytes), so the child never blocks on a full pty buffer.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 80,
        rows: int = 24,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.master, slave = os.openpty()
        set_winsize(slave, rows, cols)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env if env is not None else pty_env(),
            cwd=str(cwd or ROOT),
            start_new_session=True,
            # The pty becomes the child's controlling terminal, as in a real terminal:
            # if this process dies, closing the master sends the child SIGHUP (a Textual
            # app left on a closed pty without SIGHUP spins on its input at ~95% CPU).
            preexec_fn=_controlling_tty,
            close_fds=True,
        )
        os.close(slave)
        self.pid = self.proc.pid
        self.chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._data = bytearray()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if not ready:
                    if self.proc.poll() is not None:
                        break
                    continue
                data = os.read(self.master, 65536)
            except OSError:
                break
            if not data:
                break
            now = time.perf_counter()
            with self._lock:
                self.chunks.append((now, data))
                self._data += data
        self._closed.set()

    # -- reading ---------------------------------------------------------------------

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._data)

    def bytes_total(self) -> int:
        with self._lock:
            return len(self._data)

    def bytes_between(self, t0: float, t1: float) -> int:
        with self._lock:
            return sum(len(d) for t, d in self.chunks if t0 <= t < t1)

    def bytes_by_line(self, t0: float, t1: float) -> dict[int, int]:
        """Bytes written in [t0, t1) by screen line (1-based), attributed by the cursor
        moves (`ESC [ row ; col H`) that Textual puts before every run of cells."""
        with self._lock:
            data = b"".join(d for t, d in self.chunks if t0 <= t < t1)
        counts: dict[int, int] = {}
        line = 0
        position = 0
        for match in CURSOR_MOVE.finditer(data):
            counts[line] = counts.get(line, 0) + match.start() - position
            line = int(match.group(1))
            position = match.start()
        counts[line] = counts.get(line, 0) + len(data) - position
        return {k: v for k, v in counts.items() if v}

    def wait_for(self, needles: Sequence[bytes], timeout: float = 30.0) -> float:
        """perf_counter time of the read that completed the first of `needles`."""
        deadline = time.perf_counter() + timeout
        seen = 0
        buffer = bytearray()
        while time.perf_counter() < deadline:
            with self._lock:
                chunks = self.chunks[seen:]
            for when, data in chunks:
                buffer += data
                if any(n in buffer for n in needles):
                    return when
            seen += len(chunks)
            if self._closed.is_set() and not chunks:
                break
            time.sleep(0.002)
        tail = bytes(buffer[-2000:]).decode("utf-8", "replace")
        raise TimeoutError(f"{self.argv}: none of {needles!r} within {timeout}s; tail: {tail!r}")

    def wait_quiet(
        self, quiet: float = 0.3, timeout: float = 20.0, since: float | None = None
    ) -> float:
        """Wait until no output for `quiet` seconds (counted from `since` at the earliest);
        returns the time of the last byte."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                last = self.chunks[-1][0] if self.chunks else self.started
            if time.perf_counter() - max(last, since or 0.0) >= quiet:
                return last
            time.sleep(0.01)
        raise TimeoutError(f"{self.argv}: never quiet for {quiet}s")

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    # -- control ---------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def close(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send(b"q")
            try:
                self.proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self._closed.wait(2.0)
        with contextlib.suppress(OSError):
            os.close(self.master)

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


CURSOR_MOVE = re.compile(rb"\x1b\[(\d+);\d+H")


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


@contextlib.contextmanager
def temp_home() -> Iterator[Path]:
    """A throwaway HOME/XDG dirs so no user config or oxen token is read."""
    path = Path(tempfile.mkdtemp(prefix="queue-tui-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def home_env(home: Path, **extra: str) -> dict[str, str]:
    return pty_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        **extra,
    )


def python() -> str:
    return sys.executable


def runner_argv(*args: str) -> list[str]:
    return [python(), str(RUNNER), *args]


def start_ready(
    argv: list[str], env: dict[str, str], ready: Callable[[str], bool], what: str
) -> tuple[subprocess.Popen[str], str]:
    """A helper process that says it is up on the first line of its stdout (`ready`
    accepts that line): the process and the line."""
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not ready(line):
        proc.kill()
        raise RuntimeError(f"{what} did not start: {' '.join(argv)}")
    return proc, line


def start_hub(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """A hub in its own process (`argv` prints its URL on the first line of stdout)."""
    return start_ready(argv, env, lambda line: line.startswith("http"), "the hub")


#: Status cells of the table ("◷ queued", "▶ processing"): a row has been painted.
ROW_NEEDLES = ("◷ queued".encode(), "▶ processing".encode())
#: What `_runner.py bare` and `floor` paint.
BARE_NEEDLES = (b"bench-ready",)


def time_to_paint(
    argv: Sequence[str], needles: Sequence[bytes], env: dict[str, str], cwd: Path | None = None
) -> tuple[float, float]:
    """Seconds from start to the first paint of `needles` in an 80x24 pty, and the CPU
    seconds the process had used by then (less sensitive to other work on the machine;
    in ticks of 10 ms)."""
    with PtyProcess(argv, cols=80, rows=24, env=env, cwd=cwd) as proc:
        seen = proc.wait_for(needles, timeout=60)
        return seen - proc.started, proc.cpu_seconds()
