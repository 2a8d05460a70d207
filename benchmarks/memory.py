"""Memory: peak RSS of the dashboard holding 10,000 rows vs 100 rows.

    python benchmarks/memory.py [--quick]

Each size runs in its own fresh subprocess: the real QueueApp, headless at 160x50, polls
through the real client (an httpx MockTransport answers with a seeded page body built
beforehand by the parent, so no hub lives in the measured process), parses the page,
fills its table and repaints (the lists of finished rows it also asks for are empty, as on
a hub holding only active rows); then polls 3 more times (each poll parses a fresh copy of
the page while the previous one is alive). Peak RSS is VmHWM from /proc/self/status.
Targets: the peak with 10,000 rows <= 2.5x the peak with 100 rows; the extra peak per
row ((peak at 10,000 - peak at 100) / 9,900) <= 4 KiB, after the polls too.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _harness import Report, page_body, parse_args, python, seeded_rows

TARGET = 2.5
PER_ROW_TARGET = 4.0  # KiB
#: Polls after the first: each parses a fresh copy of the page while the last one lives.
POLLS = 3
SIZE = (160, 50)


def child(rows: int, body_path: str) -> None:
    """Runs in the subprocess: load the page into the app, print peak and current RSS."""
    import httpx

    from queue_tui.api.client import QUEUE_PATH, QueueClient
    from queue_tui.api.models import TERMINAL_STATUSES
    from queue_tui.config import Settings
    from queue_tui.demo.clock import FakeClock
    from queue_tui.tui.app import QueueApp

    body = Path(body_path).read_bytes()
    empty = json.dumps({"count": 0, "generations": []}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        # The queue holds active rows only: the lists of finished rows the dashboard asks
        # for (its history backfill, resolving rows) are empty, as on a fresh hub.
        finished = request.url.params.get("status") in TERMINAL_STATUSES
        content = empty if finished or request.url.path != QUEUE_PATH else body
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    settings = Settings(host="http://127.0.0.1:9", interval=24 * 3600.0)
    client = QueueClient(settings, transport=httpx.MockTransport(handler))
    app = QueueApp(settings, client=client, clock=FakeClock(1_764_000_000.0))

    async def run() -> dict[str, int]:
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(6000):
                if app.polls >= 1 and app.table.row_count == rows:
                    break
                if app.failures:
                    raise RuntimeError(f"the poll failed: {app.last_error}")
                await pilot.pause(0.01)
            else:
                raise TimeoutError("the page never reached the table")
            await pilot.pause()
            await pilot.pause(0.1)
            loaded = status_kb("VmHWM")
            for poll in range(2, 2 + POLLS):
                app.action_refresh()
                for _ in range(6000):
                    if app.polls >= poll:
                        break
                    await pilot.pause(0.01)
                await pilot.pause(0.1)
            return {
                "shown": app.table.row_count,
                "loaded_hwm_kb": loaded,
                "hwm_kb": status_kb("VmHWM"),
                "rss_kb": status_kb("VmRSS"),
            }

    print(json.dumps(asyncio.run(run())))


def status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def measure(rows: int, tmp: Path) -> dict[str, int]:
    body = tmp / f"page-{rows}.json"
    body.write_bytes(page_body(seeded_rows(rows)))
    out = subprocess.run(
        [python(), __file__, "--child", str(rows), str(body)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child for {rows} rows failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["body_bytes"] = body.stat().st_size
    return result


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        child(int(argv[1]), argv[2])
        return 0
    args = parse_args(__doc__ or "", argv)
    small, big = (100, 2_000) if args.quick else (100, 10_000)
    report = Report(
        f"memory: peak RSS, {big:,} rows vs {small:,} rows (headless 160x50)", args.quick
    )
    with tempfile.TemporaryDirectory() as tmp:
        results = {n: measure(n, Path(tmp)) for n in (small, big)}
    for n, r in results.items():
        report.figure(
            f"{n:,} rows: peak RSS after the first page / after {POLLS} more polls",
            f"{r['loaded_hwm_kb'] / 1024:.1f} MiB / {r['hwm_kb'] / 1024:.1f} MiB "
            f"(page body {r['body_bytes'] / 1024:,.0f} KiB)",
        )
    per_row: dict[str, float] = {}
    for key, when in (("loaded_hwm_kb", "after loading"), ("hwm_kb", "while polling")):
        per_row[key] = (results[big][key] - results[small][key]) / (big - small)
        report.figure(f"extra peak per row, {when}", f"{per_row[key]:.2f} KiB")
    body_per_row = (results[big]["body_bytes"] - results[small]["body_bytes"]) / (big - small)
    report.figure("  the page's JSON per row, for scale", f"{body_per_row / 1024:.2f} KiB")
    loaded = report.ratio(
        f"peak {big:,} / peak {small:,}, after loading the page",
        results[big]["loaded_hwm_kb"],
        results[small]["loaded_hwm_kb"],
    )
    polling = report.ratio(
        f"peak {big:,} / peak {small:,}, after {POLLS} more polls",
        results[big]["hwm_kb"],
        results[small]["hwm_kb"],
    )
    report.target(
        f"peak RSS with {big:,} rows loaded <= {TARGET}x with {small:,} ({loaded:.2f}x)",
        loaded <= TARGET,
    )
    report.target(
        f"the same, peak over {POLLS} more polls of the same page ({polling:.2f}x)",
        polling <= TARGET,
    )
    worst = max(per_row.values())
    report.target(
        f"extra peak per row at {big:,} rows <= {PER_ROW_TARGET:g} KiB, loading and polling"
        f" ({per_row['loaded_hwm_kb']:.2f} / {per_row['hwm_kb']:.2f} KiB)",
        worst <= PER_ROW_TARGET,
    )
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
